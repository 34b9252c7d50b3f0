"""The master's Prometheus endpoint (docs/metrics.md), scraped with prometheus_client's text parser while the REAL
`decnet-master serve --metrics` serves a real agent and hostile peers on loopback.

* Every value is checked against what the test did: a rogue client holding an enrolled key sends exactly so many
  heartbeats (one gap on purpose), garbage, an oversize envelope and a topic naming another agent; a client with an
  unknown key is refused by ZAP; requests to the real agent finish, one to the mute rogue times out.
* The endpoint itself is attacked (idle and slow connections, a connection flood, a huge request line and headers,
  methods other than GET, garbage) and stays bounded while the master keeps serving.
Helpers come from trust_harness.py; every wait is bounded, every process and socket is closed.
"""
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

import trust_harness as th
from trust_harness import poll_until

MAX_MESSAGE = 4096
HELP_REQUIRED = {
    "decnet_master_agents_known", "decnet_master_agents_connected", "decnet_master_requests_outstanding",
    "decnet_master_heartbeats_relayed", "decnet_master_events_relayed", "decnet_master_heartbeat_gaps",
    "decnet_master_agents_silenced", "decnet_master_messages_received", "decnet_master_messages_dropped",
    "decnet_master_handshakes", "decnet_master_zap_requests", "decnet_master_connections_accepted",
    "decnet_master_disconnections", "decnet_master_connections_cut", "decnet_master_revocations",
    "decnet_master_request_sends", "decnet_master_requests", "decnet_master_request_duration_seconds",
    "decnet_master_stale_answers", "decnet_master_connections_open", "decnet_master_connections_limit",
    "decnet_master_descriptors_open", "decnet_master_descriptors_limit",
    "decnet_master_metrics_connections_refused",
}


class Scrape:
    """One parsed scrape: families by name (prometheus_client strips `_total` from counter family names)."""

    def __init__(self, text):
        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}

    def value(self, sample_name, **labels):
        """The value of the one sample `sample_name` with exactly these labels (KeyError when absent)."""
        for family in self.families.values():
            for sample in family.samples:
                if sample.name == sample_name and sample.labels == labels:
                    return sample.value
        raise KeyError(f"{sample_name}{labels} not in the scrape")

    def total(self, sample_name, **labels):
        """Sum of the samples named `sample_name` whose labels include `labels`."""
        return sum(s.value for f in self.families.values() for s in f.samples
                   if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items()))


def http(port, payload, timeout=10.0):
    """Sends `payload` and returns everything the endpoint answers until it closes (b"" when closed at once)."""
    with socket.create_connection((th.LOOPBACK, port), timeout=timeout) as s:
        if payload:
            try:
                s.sendall(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except ConnectionResetError:
            pass
        return b"".join(chunks)


def status_of(answer):
    first = answer.split(b"\r\n", 1)[0].split()
    return int(first[1]) if len(first) >= 2 and first[0].startswith(b"HTTP/1.") else None


def scrape(port):
    answer = http(port, b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert status_of(answer) == 200, f"scrape answered {answer[:200]!r}"
    assert b"text/plain; version=0.0.4" in head, head
    return Scrape(body.decode())


class Harness:
    def __init__(self):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="mx-", dir="/tmp"))
        self.keys_dir = self.dir / "keys"
        self.closers = []
        self.master = None

    def start_master(self):
        (self.metrics_port,) = th.free_ports(1)
        self.master = th.MasterProcess(self.dir, extra=["--metrics", f"127.0.0.1:{self.metrics_port}",
                                                        "--max-message-size", str(MAX_MESSAGE)])
        self.closers.append(self.master.close)
        self.master.start()
        return self.master

    def key(self, name):
        return th.keygen(self.keys_dir, name, "agent")

    def close(self, failed):
        for closer in reversed(self.closers):
            try:
                closer()
            except Exception as error:  # keep closing the rest
                print(f"teardown: {error!r}")
        if failed and self.master is not None:
            print(f"--- master log (tail)\n{self.master.log.tail(6000)}")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def h(request):
    harness = Harness()
    yield harness
    report = getattr(request.node, "rep_call", None)
    harness.close(report is not None and report.failed)


def wait_scrape(port, predicate, timeout, what):
    """Scrapes until `predicate(scrape)` holds; returns that scrape."""
    last = {}

    def check():
        try:
            last["s"] = scrape(port)
        except (AssertionError, OSError) as error:  # refused while its slots are full
            last["error"] = error
            return None
        return last["s"] if predicate(last["s"]) else None
    try:
        return poll_until(check, timeout, 0.2, what)
    except TimeoutError:
        text = last["s"].text if "s" in last else last.get("error")
        raise AssertionError(f"{what}: not within {timeout} s; last scrape:\n{text}") from None


def test_metrics_count_what_the_fleet_and_hostile_peers_did(h):
    m = h.start_master()
    port = h.metrics_port
    first = scrape(port)
    # Every declared family is there with its HELP text, before anything happened.
    missing = HELP_REQUIRED - set(first.families)
    assert not missing, f"families missing: {sorted(missing)}"
    assert all(first.families[name].documentation for name in HELP_REQUIRED)
    # docs/metrics.md#catalogue lists exactly the metrics exported, with the type they are exported as.
    documented = dict(re.findall(r"^\| `(decnet_master_\w+)` \| (\w+) \|",
                                 (th.ROOT / "docs" / "metrics.md").read_text(), re.M))
    exported = {f.name + ("_total" if f.type == "counter" else ""): f.type for f in first.families.values()}
    assert documented == exported, f"documented but not exported: {documented.keys() - exported.keys()}; " \
        f"exported but not documented: {exported.keys() - documented.keys()}; or a type differs"
    assert first.value("decnet_master_agents_known") == 0
    assert first.value("decnet_master_heartbeats_relayed_total") == 0
    assert first.value("decnet_master_descriptors_limit") == th_soft_nofile(m.pid)

    # A real agent, enrolled, answering requests.
    real_key = h.key("real")
    m.enrol(real_key, "real")
    real = th.start_agent(h.dir, m, "real", real_key)
    h.closers.append(real.stop)
    m.wait_connected("real", 20, th.agent_boot_id(real))
    for _ in range(2):
        assert m.state_ok("real", 15), m.log.tail()

    # A rogue holding an enrolled key: hello, then exactly six heartbeats (seq 1-5, then 9: three missing).
    rogue_key = h.key("rogue")
    m.enrol(rogue_key, "rogue")
    # It never re-dials (60 s): its sessions the master ends (oversize, impostor) must not come back while the
    # counts below are compared, or a reconnect between the fleet snapshot and the scrape makes them disagree.
    rogue = th.RogueAgent(m, rogue_key.secret, reconnect_ms=60000)
    h.closers.append(rogue.close)
    assert rogue.handshake("dealer") == "ok" and rogue.handshake("pub") == "ok"
    boot = str(uuid.uuid4())
    rogue.send(th.hello("rogue", boot))
    m.wait_connected("rogue", 10)
    time.sleep(1.0)  # the master's subscription reaches the rogue's PUB
    for seq in (1, 2, 3, 4, 5, 9):
        rogue.publish("hb.rogue", th.heartbeat("rogue", boot, seq))
    rogue_hb = poll_until(lambda: th.dig(m.agent("rogue") or {}, "heartbeat.count") == 6 and m.agent("rogue"),
                          10, 0.2, "six rogue heartbeats")["heartbeat"]
    assert rogue_hb["gaps"] == 3, rogue_hb

    # A request the rogue never answers times out.
    done, _, _ = m.state("rogue", timeout=1)
    assert done.returncode != 0

    # Hostile traffic from the enrolled rogue: garbage; an envelope over --max-message-size, which libzmq refuses
    # (ZMQ_MAXMSGSIZE) by ending the session; a topic naming another agent.
    rogue.send(b"not json {")
    wait_scrape(port, lambda s: s.value("decnet_master_messages_dropped_total", reason="garbage") == 1, 10,
                "garbage counted")
    rogue.send(b"{" + b" " * (16 * MAX_MESSAGE) + b"}")
    wait_scrape(port, lambda s: s.value("decnet_master_disconnections_total", socket="command") == 1, 10,
                "the oversize sender's session ended")
    rogue.publish("hb.real", th.heartbeat("rogue", boot, 10))
    wait_scrape(port, lambda s: s.value("decnet_master_messages_dropped_total", reason="topic_mismatch") == 1
                and s.value("decnet_master_connections_cut_total", reason="impostor") >= 1, 10, "impostor cut")

    # A client with an unknown key: ZAP refuses both its sockets, once each.
    stranger = th.RogueAgent(m, h.key("stranger").secret, reconnect_ms=60000)
    h.closers.append(stranger.close)
    assert stranger.handshake("dealer") == "refused" and stranger.handshake("pub") == "refused"

    # Freeze the heartbeats: stop the real agent, then compare every value with what happened.
    real.stop()
    poll_until(lambda: not (m.agent("real") or {}).get("connected"), 20, 0.2, "real agent shown disconnected")
    fleet = m.fleet()
    counters = fleet["counters"]
    agents = {a["agent_id"]: a for a in fleet["agents"]}
    s = wait_scrape(port, lambda s: s.value("decnet_master_zap_requests_total", handler="agents", verdict="denied")
                    == 2, 10, "ZAP denials carried over")
    failures = []

    def expect(name, actual, wanted):
        if actual != wanted:
            failures.append(f"{name}: {actual} (wanted {wanted})")

    expect("agents known", s.value("decnet_master_agents_known"), 2)
    expect("agents connected", s.value("decnet_master_agents_connected"),
           sum(1 for a in agents.values() if a["connected"]))
    real_count = agents["real"]["heartbeat"]["count"]
    expect("heartbeats relayed", s.value("decnet_master_heartbeats_relayed_total"), 6 + real_count)
    expect("heartbeat gaps", s.value("decnet_master_heartbeat_gaps_total"), 3 + agents["real"]["heartbeat"]["gaps"])
    expect("relayed (agents --json)", s.value("decnet_master_heartbeats_relayed_total"),
           counters["relayed"]["heartbeats"])
    expect("state ok", s.value("decnet_master_requests_total", type="state", outcome="ok"), 2)
    expect("ping any", s.total("decnet_master_requests_total", type="ping"), 0)
    expect("state timeout", s.value("decnet_master_requests_total", type="state", outcome="timeout"), 1)
    expect("apply any", s.total("decnet_master_requests_total", type="apply"), 0)
    expect("state durations", s.value("decnet_master_request_duration_seconds_count", type="state"), 3)
    expect("state +Inf bucket", s.value("decnet_master_request_duration_seconds_bucket", type="state", le="+Inf"), 3)
    timeout_floor = s.value("decnet_master_request_duration_seconds_sum", type="state")
    if not 1.0 <= timeout_floor < 30:
        failures.append(f"state duration sum {timeout_floor} s (the timed-out one alone took 1 s)")
    expect("first sends", s.value("decnet_master_request_sends_total", kind="first"), 3)
    expect("outstanding", s.value("decnet_master_requests_outstanding"), 0)
    for reason, count in counters["dropped"].items():
        expect(f"dropped {reason}", s.value("decnet_master_messages_dropped_total", reason=reason), count)
    expect("dropped garbage", s.value("decnet_master_messages_dropped_total", reason="garbage"), 1)
    expect("dropped in all", s.total("decnet_master_messages_dropped_total"), 2)
    expect("command disconnections (oversize, the refused stranger, the real agent)",
           s.value("decnet_master_disconnections_total", socket="command"), 3)
    expect("ZAP denied", s.value("decnet_master_zap_requests_total", handler="agents", verdict="denied"), 2)
    expect("ZAP allowed (agents --json)", s.value("decnet_master_zap_requests_total", handler="agents",
                                                  verdict="allowed"), counters["zap"]["agents"]["allowed"])
    expect("failed_auth command", s.value("decnet_master_handshakes_total", socket="command", outcome="failed_auth"),
           1)
    expect("failed_auth heartbeat", s.value("decnet_master_handshakes_total", socket="heartbeat",
                                            outcome="failed_auth"), 1)
    for role in ("command", "heartbeat", "monitor"):
        h_json = counters["handshakes"][role]
        expect(f"succeeded {role}", s.value("decnet_master_handshakes_total", socket=role, outcome="succeeded"),
               h_json["succeeded"])
        expect(f"accepted {role}", s.value("decnet_master_connections_accepted_total", socket=role),
               h_json["accepted"])
        expect(f"disconnected {role}", s.value("decnet_master_disconnections_total", socket=role),
               h_json["disconnected"])
    expect("received command", s.value("decnet_master_messages_received_total", socket="command"),
           counters["received"]["command"])
    expect("received heartbeat", s.value("decnet_master_messages_received_total", socket="heartbeat"),
           counters["received"]["published"])
    expect("connections open", s.value("decnet_master_connections_open"), counters["connections"]["open"])
    fds = th.open_fds(m.pid)
    if abs(s.value("decnet_master_descriptors_open") - fds) > 4:
        failures.append(f"descriptors open {s.value('decnet_master_descriptors_open')}, /proc shows {fds}")
    assert not failures, "metrics disagree with what happened:\n  " + "\n  ".join(failures)


def th_soft_nofile(pid):
    for line in pathlib.Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError("no open-files line in /proc/PID/limits")


def test_metrics_endpoint_stays_bounded_under_attack_and_the_master_keeps_serving(h):
    m = h.start_master()
    port = h.metrics_port
    key = h.key("steady")
    m.enrol(key, "steady")
    agent = th.start_agent(h.dir, m, "steady", key)
    h.closers.append(agent.stop)
    m.wait_connected("steady", 20, th.agent_boot_id(agent))
    fds_before = th.open_fds(m.pid)

    # Not GET, not /metrics, not HTTP.
    assert status_of(http(port, b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")) == 405
    assert status_of(http(port, b"DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n")) == 405
    assert status_of(http(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")) == 404
    assert status_of(http(port, b"GET /metrics/../etc HTTP/1.1\r\nHost: x\r\n\r\n")) == 404
    assert status_of(http(port, b"\x16\x03\x01 garbage\r\n\r\n")) == 400

    # A huge request line, huge headers, a huge body: closed once past 8 KiB, nothing answered.
    started = time.monotonic()
    assert http(port, b"GET /metrics?" + b"a" * 1_000_000 + b" HTTP/1.1\r\n\r\n") == b""
    assert http(port, b"GET /metrics HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(20000))
                + b"\r\n") == b""
    assert http(port, b"POST /metrics HTTP/1.1\r\nContent-Length: 500000\r\n\r\n" + b"c" * 500000) == b""
    assert time.monotonic() - started < 10

    # Slowloris: a valid request head that never ends, one header byte every 0.45 s; nine of them for eight slots:
    # one is closed at once (over capacity), the eight others at the 5 s deadline, whatever order they were
    # accepted in.
    slow = []
    started = time.monotonic()
    for _ in range(9):
        s = socket.create_connection((th.LOOPBACK, port), timeout=10)
        s.sendall(b"GET /metrics HTTP/1.1\r\nX-Slow: ")
        slow.append(s)
    closed_at = {}
    while len(closed_at) < len(slow) and time.monotonic() - started < 12:
        for i, s in enumerate(slow):
            if i in closed_at:
                continue
            try:
                s.sendall(b"a")
                s.settimeout(0.05)
                if s.recv(1) == b"":
                    closed_at[i] = time.monotonic() - started
            except socket.timeout:
                pass
            except OSError:
                closed_at[i] = time.monotonic() - started
        time.sleep(0.45)
    for s in slow:
        s.close()
    times = sorted(closed_at.values())
    print(f"slow connections closed after (s): {[round(t, 1) for t in times]}")
    assert len(times) == 9, f"slow connections still open after 12 s: {9 - len(times)}"
    assert times[0] < 3 <= times[1], f"not exactly one closed at once: {times}"
    assert 4.5 <= times[1] and times[-1] < 9, f"the eight not closed at the 5 s deadline: {times}"

    # A flood of 300 connections at once, then the endpoint answers again.
    flood = []
    for _ in range(300):
        try:
            flood.append(socket.create_connection((th.LOOPBACK, port), timeout=5))
        except OSError:
            break
    time.sleep(0.5)
    for s in flood:
        s.close()
    s = wait_scrape(port, lambda s: s.value("decnet_master_metrics_connections_refused_total", reason="deadline") >= 8,
                    15, "the endpoint answers after the flood")
    refused = {r: s.value("decnet_master_metrics_connections_refused_total", reason=r)
               for r in ("over_capacity", "oversize", "deadline")}
    assert refused["oversize"] == 3, refused
    print(f"refused by the endpoint: {refused}; flood connections opened: {len(flood)}")
    assert refused["over_capacity"] >= 150, refused

    # The master kept serving its agent throughout, and its descriptors came back.
    assert m.alive()
    assert m.state_ok("steady", 15), m.log.tail()
    poll_until(lambda: th.open_fds(m.pid) <= fds_before + 4, 15, 0.3, "descriptors back to where they were")
    assert os.path.exists(f"/proc/{m.pid}")


def test_a_metrics_port_in_use_or_a_bad_address_stops_the_master_at_start(h):
    directory = h.dir / "m"
    th.keygen(directory, "master", role="master")
    (directory / "agents").mkdir()
    (directory / "monitors").mkdir()
    serve = [str(th.master_binary()), "serve", "--dir", str(directory), "--bind-host", th.LOOPBACK,
             "--command-port", "0", "--heartbeat-port", "0", "--monitor-port", "0"]
    with socket.socket() as taken:
        taken.bind((th.LOOPBACK, 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(serve + ["--metrics", str(port)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr[-2000:]
    assert f"refusing to start: metrics endpoint: cannot listen on 127.0.0.1:{port}" in done.stderr
    done = subprocess.run(serve + ["--metrics", "[::1]9108"], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "metrics address '[::1]9108' needs :PORT" in done.stderr, done.stderr[-2000:]
    assert "master serving" not in done.stderr
