#!/usr/bin/env python3
"""Wire benchmark driver (run by scripts/bench-wire.sh): `state` round trips over CURVE on loopback and the agent's
memory, ours next to the floor and the HTTPS anchor.

Steps, each bounded in time:
  1. a pyzmq master (interop/wire_master.py: ROUTER + SUB, ThreadAuthenticator) and the real
     `decnet-agent run` (release build); VmRSS/VmHWM idle after start;
  2. apply a generated 20-decky topology (20 bases + 40 services: ssh + http, unique subnets) to the real dockerd;
     VmRSS/VmHWM after it; the agent's state body after the apply is the body everybody answers with;
  3. in interleaved rounds, the same master-side client measures `state` sequentially and with 16 in flight against
     (ours) the agent (and, to tell the transport from the state work, `ping` on the agent), (a) the floor bench/wire_floor.py (pyzmq DEALER echo over CURVE), and (b) uvicorn + FastAPI
     over TLS with client certificates (bench/https_state.py) through keep-alive http.client connections;
  4. teardown, SIGTERM, and removal of anything left with the topology's label.
Writes the results as JSON (--json) for bench/wire_report.py.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import pathlib
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time

import zmq

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "interop"))
sys.path.insert(0, str(ROOT / "bench"))

import https_state  # noqa: E402
import topologies  # noqa: E402
from agent_process import AgentProcess  # noqa: E402
from wire_master import WireMaster, make_certificate  # noqa: E402

STATE_PATH = "/topology/state"


def log(message):
    print(f"bench-wire: {message}", file=sys.stderr, flush=True)


def cpu_ns(pid):
    """CPU time of every live thread of `pid`, in ns (sum of /proc/PID/task/*/schedstat)."""
    total = 0
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError):
            pass
    return total


def summary(latencies_ns, wall_s, client_cpu_s, server_cpu_ns, n):
    lat = sorted(latencies_ns)
    return {"p50_us": lat[(len(lat) - 1) // 2] / 1e3, "p99_us": lat[int((len(lat) - 1) * 0.99)] / 1e3,
            "rps": n / wall_s, "client_cpu_us": client_cpu_s * 1e6 / n, "server_cpu_us": server_cpu_ns / 1e3 / n}


# -- ZeroMQ: the master's ROUTER drives a DEALER peer (our agent or the floor)

def zmq_round_trips(router, peer, n, depth, server_pid, tag, kind="state"):
    """`n` requests of type `kind` to `peer`, `depth` outstanding at a time; latency of each."""
    peer = peer.encode()
    prefix = b'{"proto":1,"type":"' + kind.encode() + b'","id":"' + tag.encode() + b"-"
    starts, latencies = {}, []
    send, recv, clock = router.send_multipart, router.recv_multipart, time.perf_counter_ns
    sent = 0
    server0, cpu0, wall0 = cpu_ns(server_pid), time.process_time(), time.perf_counter()
    while sent < min(depth, n):
        rid = b"%d" % sent
        starts[rid] = clock()
        send([peer, prefix + rid + b'"}'])
        sent += 1
    while len(latencies) < n:
        frames = recv()
        now = clock()
        body = frames[1]
        at = body.index(b'"id":"') + 6
        rid = body[at:body.index(b'"', at)].rsplit(b"-", 1)[1]
        latencies.append(now - starts.pop(rid))
        if sent < n:
            rid = b"%d" % sent
            starts[rid] = clock()
            send([peer, prefix + rid + b'"}'])
            sent += 1
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return summary(latencies, wall, cpu, cpu_ns(server_pid) - server0, n)


# -- HTTPS: keep-alive connections with the client certificate

def https_worker(port, context, n):
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context)
    latencies, clock = [], time.perf_counter_ns
    for _ in range(n):
        start = clock()
        connection.request("GET", STATE_PATH)
        response = connection.getresponse()
        response.read()
        latencies.append(clock() - start)
        if response.status != 200:
            raise RuntimeError(f"HTTPS state answered {response.status}")
    connection.close()
    return latencies


def https_round_trips(port, context, n, depth, server_pid):
    server0, cpu0, wall0 = cpu_ns(server_pid), time.process_time(), time.perf_counter()
    if depth == 1:
        latencies = https_worker(port, context, n)
    else:
        with concurrent.futures.ThreadPoolExecutor(depth) as pool:
            parts = pool.map(lambda _: https_worker(port, context, n // depth), range(depth))
            latencies = [x for part in parts for x in part]
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return summary(latencies, wall, cpu, cpu_ns(server_pid) - server0, len(latencies))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_https(port, context, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        try:
            https_worker(port, context, 1)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def run(args, work):
    results = {"requests": args.requests, "inflight": args.inflight, "rounds": args.rounds, "deckies": args.deckies,
               "machine": {"cpus": os.cpu_count(), "loadavg_start": os.getloadavg()[0],
                           "python": platform.python_version(), "pyzmq": zmq.__version__,
                           "libzmq": zmq.zmq_version()}}
    master = WireMaster(work / "master")
    processes, topology_id, agent = [], None, None
    try:
        # 1. our agent, idle
        agent_id = "bench-agent"
        public_file, secret_file = make_certificate(work / "agent", agent_id)
        master.enrol(agent_id, public_file)
        agent = AgentProcess(args.agent_bin, agent_id=agent_id, master=master, key_file=secret_file,
                             state_dir=work / "agent" / "state", log_path=work / "agent.log",
                             heartbeat_interval="10")
        master.hello(agent_id, timeout=30)
        time.sleep(3)
        results["memory_idle_kib"] = agent.memory()
        log(f"agent idle: {results['memory_idle_kib']}")

        # 2. the 20-decky apply
        hydrated = topologies.generated(args.deckies)
        topology_id = hydrated["topology"]["id"]
        started = time.monotonic()
        result = master.result(master.apply(agent_id, hydrated), timeout=args.apply_timeout)
        if result.get("status") != 200:
            raise RuntimeError(f"apply failed: {json.dumps(result)[:600]}")
        results["apply_s"] = time.monotonic() - started
        results["containers"] = len(topologies.containers(topology_id))
        time.sleep(3)
        results["memory_applied_kib"] = agent.memory()
        log(f"applied {results['containers']} containers in {results['apply_s']:.1f} s; "
            f"agent: {results['memory_applied_kib']}")
        state = master.result(master.request(agent_id, "state"), timeout=10)
        if state["body"]["drift"] != {"missing_bridges": [], "missing_containers": [], "stopped_containers": [],
                                      "unexpected_containers": []}:
            raise RuntimeError(f"drift after the apply: {state['body']['drift']}")
        body = json.dumps(state["body"], separators=(",", ":")).encode()
        (work / "body.json").write_bytes(body)
        results["body_bytes"] = len(body)

        # 3a. the floor: a pyzmq DEALER echo, enrolled like an agent
        floor_public, floor_secret = make_certificate(work / "floor", "floor-echo")
        master.enrol("floor-echo", floor_public)
        floor = subprocess.Popen([sys.executable, str(ROOT / "bench" / "wire_floor.py"), "floor-echo",
                                  master.command_endpoint, str(master.public_file), str(floor_secret),
                                  str(work / "body.json")])
        processes.append(floor)
        master.hello("floor-echo", timeout=30)

        # 3b. the HTTPS anchor
        https_state.make_certificates(work / "tls")
        port = free_port()
        server = subprocess.Popen([sys.executable, str(ROOT / "bench" / "https_state.py"), "serve",
                                   str(work / "tls"), str(port), str(work / "body.json")])
        processes.append(server)
        context = https_state.client_context(work / "tls")
        wait_https(port, context)

        master.pump(0.2)  # drain heartbeats and hellos; from here on the bench reads the ROUTER directly
        master.router.setsockopt(zmq.RCVTIMEO, 10000)
        targets = {
            "ours": lambda n, d, tag: zmq_round_trips(master.router, agent_id, n, d, agent.pid, tag),
            "ours-ping": lambda n, d, tag: zmq_round_trips(master.router, agent_id, n, d, agent.pid, tag, "ping"),
            "floor": lambda n, d, tag: zmq_round_trips(master.router, "floor-echo", n, d, floor.pid, tag),
            "https": lambda n, d, tag: https_round_trips(port, context, n, d, server.pid),
        }
        for name, measure in targets.items():  # warm-up
            measure(200, 1, f"w-{name}")
            measure(200, args.inflight, f"wi-{name}")
        runs = {f"{t}/{m}": [] for t in targets for m in ("sequential", "inflight")}
        for round_number in range(args.rounds):
            for name, measure in targets.items():
                runs[f"{name}/sequential"].append(measure(args.requests, 1, f"r{round_number}s-{name}"))
                runs[f"{name}/inflight"].append(measure(args.requests, args.inflight, f"r{round_number}i-{name}"))
            log(f"round {round_number + 1}/{args.rounds}: " + ", ".join(
                f"{k} {v[-1]['rps']:.0f}/s" for k, v in runs.items()))
        results["runs"] = runs
        results["memory_after_bench_kib"] = agent.memory()

        # 4. teardown and a clean stop
        teardown = master.result(master.request(agent_id, "teardown", topology_id=topology_id), timeout=120)
        results["teardown_status"] = teardown.get("status")
        results["agent_exit"], results["agent_stop_s"] = agent.stop()
        log(f"teardown {results['teardown_status']}, agent exit {results['agent_exit']} "
            f"in {results['agent_stop_s']:.2f} s")
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        if agent is not None:
            agent.stop()
        if topology_id:
            topologies.remove_everything(topology_id)
        master.close()
    results["machine"]["loadavg_end"] = os.getloadavg()[0]
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agent-bin", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--inflight", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--deckies", type=int, default=20)
    parser.add_argument("--apply-timeout", type=float, default=240)
    parser.add_argument("--json", required=True)
    args = parser.parse_args()
    # `timeout` in bench-wire.sh sends SIGTERM: leave through the finally blocks, which remove the containers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="decnet-bench-wire.") as work:
        results = run(args, pathlib.Path(work))
    pathlib.Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
