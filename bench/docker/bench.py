"""Apply and teardown of a 20-decky topology: decnet-agent, docker-compose and the raw-API floor, side by side.

Driven by scripts/bench-docker.sh. Everything the benchmark makes carries the run's unique `decnet.topology.id`
label (the agent puts it on its objects, the compose document carries it, the floor copies the document's labels),
and cleanup removes exactly that, even after a failure or an interrupt.
"""
import argparse
import ipaddress
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import floor  # noqa: E402
import topology  # noqa: E402
from engine import Engine  # noqa: E402

STEP_TIMEOUT = 600  # seconds any one command may take
ARTIFACTS = "/var/lib/decnet/artifacts"  # where the ssh template's bind mount makes host folders


def run(cmd, env=None):
    """Runs a command, returns its wall time in seconds; a failure raises with its output."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=STEP_TIMEOUT, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"bench: {' '.join(cmd[:4])} ... failed ({done.returncode}):\n{done.stdout[-2000:]}\n"
                         f"{done.stderr[-2000:]}")
    return elapsed


class Bench:
    def __init__(self, args):
        self.args = args
        self.engine = Engine()
        self.token = uuid.uuid4().hex[:6]
        self.topology_id = f"bd{self.token}-docker-bench"
        self.label = f"decnet.topology.id={self.topology_id}"
        self.project = f"decnet-bench-{self.token}"
        self.tmp = tempfile.mkdtemp(prefix="decnet-bench-docker-")
        self.state = os.path.join(self.tmp, "state")
        self.topology_file = os.path.join(self.tmp, "topology.json")
        self.compose_file = os.path.join(self.tmp, "compose.json")
        self.templates = os.path.abspath(args.templates)

    # The three contenders.
    def agent(self, *arguments):
        return [self.args.agent, "local", *arguments, "--state-dir", self.state]

    def ours_apply(self):
        return run(self.agent("apply", self.topology_file, "--templates-dir", self.templates,
                              "--base-image", self.args.base_image))

    def ours_teardown(self):
        return run(self.agent("teardown", self.topology_id))

    def compose(self, *arguments):
        return [self.args.compose, "-p", self.project, "-f", self.compose_file, *arguments]

    def compose_apply(self):
        # The document's networks are external: created first, through the API, as DECNET does before compose up.
        start = time.perf_counter()
        for name, (subnet, internal, labels) in self.networks.items():
            self.engine.call("POST", "/networks/create", {
                "Name": name, "CheckDuplicate": True, "Driver": "bridge", "Internal": internal,
                "IPAM": {"Driver": "default", "Config": [{"Subnet": subnet}]}, "Labels": labels})
        run(self.compose("up", "-d"))
        return time.perf_counter() - start

    def compose_teardown(self, timeout=None):
        start = time.perf_counter()
        run(self.compose("down", *(["-t", str(timeout)] if timeout is not None else [])))
        for n in self.engine.networks(self.label):
            self.engine.call("DELETE", f"/networks/{n['Id']}")
        return time.perf_counter() - start

    def floor_apply(self, concurrency):
        start = time.perf_counter()
        self.made = floor.apply(self.doc, self.networks, concurrency, self.engine)
        return time.perf_counter() - start

    def floor_teardown(self, concurrency):
        start = time.perf_counter()
        floor.teardown(self.doc, self.made, concurrency, self.args.stop_timeout, self.engine)
        return time.perf_counter() - start

    # Checks between timings (not timed).
    def check_up(self, who):
        running = self.engine.containers(self.label, all=False)
        if len(running) != self.expected:
            raise SystemExit(f"bench: after {who} apply {len(running)} containers run, expected {self.expected}")

    def container_ids(self):
        return sorted(c["Id"] for c in self.engine.containers(self.label))

    def check_down(self, who):
        left = len(self.engine.containers(self.label)), len(self.engine.networks(self.label))
        if left != (0, 0):
            raise SystemExit(f"bench: after {who} teardown {left[0]} containers and {left[1]} networks are left")

    def prepare(self):
        taken = [ipaddress.ip_network(s) for s in self.engine.subnets()]
        hydrated, self.about = topology.generate(self.topology_id, self.token, taken)
        with open(self.topology_file, "w") as f:
            json.dump(hydrated, f)
        self.networks = {}
        # Warm-up (not timed): the agent builds the template images if they are missing and writes its document.
        self.ours_apply()
        containers = self.engine.containers(self.label)
        self.expected = len(containers)
        images = {c["Names"][0].lstrip("/"): c["Image"] for c in containers}
        written = os.listdir(os.path.join(self.state, "topologies"))
        with open(os.path.join(self.state, "topologies", written[0])) as f:
            agent_yaml = f.read()
        compose_cmd = [self.args.agent, "compose", self.topology_file, "--templates-dir", self.templates,
                       "--base-image", self.args.base_image]
        yaml = subprocess.run(compose_cmd + ["--format", "yaml"], capture_output=True, text=True, check=True).stdout
        if yaml != agent_yaml:
            raise SystemExit("bench: `decnet-agent compose --format yaml` differs from the document the agent wrote")
        for n in self.engine.networks(self.label):
            cfg = n["IPAM"]["Config"][0]
            self.networks[n["Name"]] = (cfg["Subnet"], n["Internal"], {"decnet.topology.id": self.topology_id})
        self.ours_teardown()
        self.check_down("warm-up")
        # The same document as JSON (valid YAML), each built service pointed at the tag the agent built, so
        # docker-compose finds the image present and builds nothing.
        self.doc = json.loads(subprocess.run(compose_cmd + ["--format", "json"], capture_output=True, text=True,
                                             check=True).stdout)
        for s in self.doc["services"].values():
            if "build" in s:
                s["image"] = images[s["container_name"]]
        with open(self.compose_file, "w") as f:
            json.dump(self.doc, f, indent=1)

    def measure(self):
        a = self.args
        results = {}

        def note(key, seconds):
            results.setdefault(key, []).append(seconds)

        def ours():
            note("ours_apply", self.ours_apply()); self.check_up("decnet-agent")
            # The same topology again: nothing may be recreated (the runtime compares blueprints, not names).
            before = self.container_ids()
            note("ours_reapply", self.ours_apply()); self.check_up("decnet-agent re-apply")
            if self.container_ids() != before:
                raise SystemExit("bench: a re-apply of the same topology recreated containers")
            note("ours_teardown", self.ours_teardown()); self.check_down("decnet-agent")

        def compose():
            note("compose_apply", self.compose_apply()); self.check_up("docker-compose")
            note("compose_down", self.compose_teardown()); self.check_down("docker-compose")
            note("compose_apply", self.compose_apply()); self.check_up("docker-compose")
            note("compose_down_t1", self.compose_teardown(1)); self.check_down("docker-compose -t 1")

        def floor_at(c):
            def measure():
                note(f"floor_apply_{c}", self.floor_apply(c)); self.check_up(f"floor c={c}")
                note(f"floor_teardown_{c}", self.floor_teardown(c)); self.check_down(f"floor c={c}")
            return measure

        contenders = [ours, compose] + [floor_at(c) for c in a.concurrency]
        for r in range(1, a.rounds + 1):
            # Each round starts with the next contender, so the load of a shared machine drifting over a round does
            # not always fall on the same one.
            shift = (r - 1) % len(contenders)
            for measure in contenders[shift:] + contenders[:shift]:
                measure()
            line = "  ".join(f"{k} {v[-1]:.2f}" for k, v in results.items())
            print(f"round {r}/{a.rounds}: {line}", file=sys.stderr, flush=True)
        return {k: statistics.median(v) for k, v in results.items()}

    def cleanup(self):
        try:
            containers, networks = self.engine.remove_labelled(self.label)
            if containers or networks:
                print(f"bench: cleanup removed {containers} containers and {networks} networks", file=sys.stderr)
        finally:
            for i in range(1, topology.DECKIES + 1):
                shutil.rmtree(os.path.join(ARTIFACTS, f"b{self.token}-{i:02d}"), ignore_errors=True)
            shutil.rmtree(self.tmp, ignore_errors=True)


def report(bench, m, args):
    c = args.concurrency
    best_apply = min(c, key=lambda k: m[f"floor_apply_{k}"])
    best_down = min(c, key=lambda k: m[f"floor_teardown_{k}"])
    fa, fd = m[f"floor_apply_{best_apply}"], m[f"floor_teardown_{best_down}"]
    oa, od = m["ours_apply"], m["ours_teardown"]
    ca, cd, cd1 = m["compose_apply"], m["compose_down"], m["compose_down_t1"]
    n = bench.expected
    w = 62
    print(f"Docker apply and teardown: {bench.about}; {n} containers; medians of {args.rounds} rounds")
    print(f"  {'':{w}s} {'apply':>9s} {'teardown':>9s}")
    print(f"  {f'floor: raw Engine API, best concurrency (apply {best_apply}, teardown {best_down})':{w}s}"
          f" {fa:8.2f}s {fd:8.2f}s")
    print(f"  {f'decnet-agent local apply / teardown (stop timeout {args.stop_timeout} s)':{w}s} {oa:8.2f}s {od:8.2f}s")
    print(f"  {'docker-compose up -d / down (default 10 s stop timeout)':{w}s} {ca:8.2f}s {cd:8.2f}s")
    print(f"  {'decnet-agent local apply again (nothing to change)':{w}s} {m['ours_reapply']:8.2f}s")
    print(f"  {'docker-compose down -t 1':{w}s} {'':9s} {cd1:8.2f}s")
    print("  floor by concurrency (apply/teardown): " + ", ".join(
        f"c={k} {m[f'floor_apply_{k}']:.2f}/{m[f'floor_teardown_{k}']:.2f}s" for k in c))
    goals = [
        ("apply no slower than docker-compose", f"ours {oa:.2f}s vs {ca:.2f}s: compose/ours {ca / oa:.2f}x", oa <= ca),
        ("apply within 1.2x of the floor", f"ours/floor {oa / fa:.2f}x", oa <= 1.2 * fa),
        ("teardown at least 3x faster than docker-compose down", f"down/ours {cd / od:.2f}x", cd >= 3 * od),
    ]
    for goal, numbers, met in goals:
        print(f"  goal: {goal:54s} {numbers:36s} {'MET' if met else 'NOT MET'}")
    print(f"  for fairness: docker-compose down -t 1 / ours {cd1 / od:.2f}x; floor teardown / ours {fd / od:.2f}x")
    return all(met for _, _, met in goals)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--agent", required=True, help="the decnet-agent binary (release build)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--concurrency", default="1,2,4,8", help="floor concurrencies to sweep")
    p.add_argument("--templates", default="examples/templates")
    p.add_argument("--base-image", default="decnet-test/busybox:latest")
    p.add_argument("--compose", default=shutil.which("docker-compose") or "docker-compose")
    p.add_argument("--stop-timeout", type=int, default=2, help="the floor's stop timeout (the agent's default)")
    args = p.parse_args()
    args.concurrency = [int(x) for x in args.concurrency.split(",")]
    bench = Bench(args)
    # SIGTERM/SIGHUP end the run through the same cleanup as an error or Ctrl-C.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(130))
    try:
        bench.prepare()
        report(bench, bench.measure(), args)
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
