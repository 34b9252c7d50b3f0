"""The Python client (python/decnet_fleet) against the REAL `decnet-master serve`, the real `decnet-agent run` and
the real dockerd: apply, state, watch and teardown through the client, every documented error code mapped, bounded
waits when the master is down or restarts (docs/control-channel.md#client, #deadlines, #resending), the asyncio
variant, and the package itself (installable, typed).

The first tests need no process: they drive the client's exchanges with a fake clock and read the error tables of
docs/wire-protocol.md#errors and docs/control-channel.md#errors.
"""
import asyncio
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import pytest

import topologies
import trust_harness as th
from wire_master import canonical_hash

from decnet_fleet import (ERRORS, AsyncFleetClient, BadRequestError, BusyError, DeadlineExceededError, FleetClient,
                          FleetError, HashMismatchError, IdReusedError, NotEnrolledError, NotServingError,
                          OutcomePendingError, RequestRecord, RevokedError, ShutdownError, UnknownRequestError)
from decnet_fleet import exchange
from decnet_fleet.fleet import FleetSnapshot, changes

ROOT = pathlib.Path(__file__).resolve().parents[1]


# -- without processes


def documented_codes(document, anchor):
    """{code: status or None} from the tables of the section `anchor` of docs/`document`."""
    text = (ROOT / "docs" / document).read_text()
    section = text.split(f'<a id="{anchor}"></a>', 1)[1].split("<a id=", 1)[0]
    codes = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([a-z_]+)` \| (\d{3}|`[^|]*`|[^|]*) \|", line)
        if match:
            status = match.group(2)
            codes[match.group(1)] = int(status) if status.isdigit() else None
    return codes


def test_every_documented_error_code_has_its_exception_and_status():
    wire = documented_codes("wire-protocol.md", "errors")
    control = documented_codes("control-channel.md", "errors")
    assert len(wire) >= 14 and {"hash_mismatch", "busy", "state_unavailable"} <= set(wire), wire
    assert {"not_enrolled", "timeout", "revoked", "shutdown", "not_serving", "pending"} <= set(control), control
    for code, status in wire.items():
        assert code in ERRORS, f"{code} (docs/wire-protocol.md#errors) has no exception"
        assert ERRORS[code].wire_status == status, code
    for code in control:
        assert code in ERRORS, f"{code} (docs/control-channel.md#errors) has no exception"
        assert ERRORS[code].wire_status == wire.get(code), code
    assert len({cls for cls in ERRORS.values()}) == len(ERRORS), "one class per code"


def test_failed_results_and_control_errors_become_their_exceptions():
    with pytest.raises(HashMismatchError) as raised:
        exchange.result_body({"type": "result", "id": "r-1", "status": 400, "error": {
            "code": "hash_mismatch", "message": "differs", "details": {"expected": "a", "actual": "b"}}}, "host-1")
    error = raised.value
    assert (error.code, error.status, error.origin, error.request_id, error.agent_id) == \
        ("hash_mismatch", 400, "agent", "r-1", "host-1")
    assert error.details == {"expected": "a", "actual": "b"} and "[hash_mismatch 400]" in str(error)

    pending = exchange.control_error({"type": "control_error", "id": "r-2", "error": {
        "code": "timeout", "message": "no result", "sent": True}}, "host-1")
    assert isinstance(pending, OutcomePendingError) and pending.code == "pending" and pending.details == {"sent": True}
    never_sent = exchange.control_error({"type": "control_error", "id": "r-2", "error": {
        "code": "timeout", "message": "no result", "sent": False}}, "host-1")
    assert isinstance(never_sent, DeadlineExceededError) and never_sent.details == {"sent": False}
    reused = exchange.control_error({"type": "control_error", "id": "r-3", "error": {
        "code": "id_reused", "message": "in flight"}}, "host-1")
    assert isinstance(reused, IdReusedError) and (reused.origin, reused.status) == ("master", 409)
    future = exchange.control_error({"type": "control_error", "id": None, "error": {
        "code": "brand_new", "message": "later"}}, None)
    assert type(future) is FleetError and future.code == "brand_new"


def test_a_submit_is_resent_with_the_time_left_and_never_moves_its_deadline():
    request = {"proto": 1, "type": "state", "id": "r-9"}
    submit = exchange.SubmitExchange("host-1", request, 10, now=100.0)
    first = exchange.decode(submit.due(100.0))
    assert first == {"proto": 1, "type": "submit", "agent_id": "host-1", "timeout_ms": 10000, "request": request}
    assert submit.due(101.0) is None and submit.wait(101.0) == pytest.approx(2.0)
    again = exchange.decode(submit.due(103.0))
    assert again["timeout_ms"] == 7000 and again["request"] == request
    assert exchange.decode(submit.due(109.9995))["timeout_ms"] == 1  # never 0: the master would take the default
    assert submit.due(112.9) is None, "no re-send after the deadline"
    assert not submit.expired(114.9) and submit.expired(115.0)
    assert submit.pending().request_id == "r-9"
    with pytest.raises(ValueError):
        exchange.SubmitExchange("host-1", request, 0, now=0.0)
    with pytest.raises(ValueError):
        exchange.SubmitExchange("host-1", request, 604_801, now=0.0)
    with pytest.raises(ValueError):
        exchange.SubmitExchange("host-1", {**request, "x": float("nan")}, 5, now=0.0)


def test_a_refused_resend_does_not_end_a_request_in_flight():
    request = {"proto": 1, "type": "apply", "id": "r-5", "hydrated": {}, "version_hash": "0" * 64}
    refused = {"type": "control_error", "id": "r-5", "error": {"code": "not_enrolled", "message": "no key"}}
    fresh = exchange.SubmitExchange("host-1", request, 60, now=0.0)
    with pytest.raises(NotEnrolledError):  # before the master took it: the refusal is the outcome
        fresh.handle(refused, None)

    seen = []
    taken = exchange.SubmitExchange("host-1", request, 60, now=0.0)
    assert taken.handle({"type": "submitted", "agent_id": "host-1", "id": "r-5", "agent_connected": True},
                        seen.append) is None
    # The key was removed while the apply runs: a re-send is refused, but the request is still in flight.
    assert taken.handle(refused, seen.append) is None
    assert [m["type"] for m in seen] == ["submitted", "control_error"]
    with pytest.raises(RevokedError):
        taken.handle({"type": "control_error", "id": "r-5", "error": {"code": "revoked", "message": "gone"}}, None)


def agent_entry(agent_id, seq=None, connected=True, topology_id=None):
    heartbeat = None if seq is None else {"age_ms": 1, "received_at": 1, "seq": seq, "sent_at": 1,
                                          "interval_ms": 1000, "boot_id": "b", "count": seq, "gaps": 0,
                                          "out_of_order": 0}
    return {"agent_id": agent_id, "connected": connected, "disconnect_reason": None if connected else "silent",
            "connections": 1, "boot_id": "b", "agent_version": "0.1.0", "hello_at": 1, "last_seen_age_ms": 1,
            "heartbeat": heartbeat, "topology_id": topology_id, "applied_version_hash": None,
            "observed_error": None, "drift": None, "running": None, "pending": []}


def snapshot(*agents):
    return FleetSnapshot.parse({"type": "fleet", "now": 1, "agents": list(agents), "counters": {}})


def test_changes_between_snapshots():
    first = snapshot(agent_entry("a", 1))
    assert [e.kind for e in changes(None, first)] == ["snapshot"]
    second = snapshot(agent_entry("a", 2, connected=False, topology_id="t"), agent_entry("b", 1))
    events = [(e.kind, e.agent_id) for e in changes(first, second)]
    assert events == [("snapshot", None), ("disconnected", "a"), ("heartbeat", "a"), ("state", "a"),
                      ("joined", "b"), ("heartbeat", "b")]
    assert [e.kind for e in changes(second, second)] == ["snapshot"]
    with pytest.raises(FleetError) as raised:
        snapshot({**agent_entry("a"), "connected": "yes"})
    assert raised.value.code == "protocol_error"


def test_a_desired_answer_becomes_typed_views():
    hash_ = "0259fb69c7e4d8a1b5f3e2c6a9d0b4e7f1a2c3d4e5f60718293a4b5c6d7e8f90"
    reconcile = {"state": "in_sync", "reason": None, "attempts": 0, "last_error": None, "retry_in_ms": None,
                 "request_id": None, "drift_heartbeats": 0, "pushes": 0}
    message = {"proto": 1, "type": "desired", "now": 1765101234567, "agents": [
        {"agent_id": "host-17", "desired": {"topology_id": "t-1", "version_hash": hash_, "supersede": False,
                                            "request_id": "m-3f2a", "set_at": 1765101200000},
         "paused": False, "in_sync": True,
         "reported": {"connected": True, "topology_id": "t-1", "applied_version_hash": hash_, "drift": None,
                      "seen_at": 1765101234000},
         "applied_here": ["t-1"], "reconcile": reconcile},
        {"agent_id": "host-18", "desired": None, "paused": True, "in_sync": False, "reported": None,
         "applied_here": [], "reconcile": {**reconcile, "state": "paused"}}]}
    managed, unmanaged = exchange.desired_reply(message)
    assert (managed.agent_id, managed.desired.topology_id, managed.desired.version_hash, managed.in_sync,
            managed.applied_here, managed.reconcile_state) == ("host-17", "t-1", hash_, True, ("t-1",), "in_sync")
    assert not managed.desired.is_none and managed.reported["seen_at"] == 1765101234000
    assert unmanaged.desired is None and unmanaged.paused and unmanaged.reconcile_state == "paused"
    assert exchange.desired_reply({"type": "fleet"}) is None
    assert exchange.decode(exchange.desired_request("host-17")) == {"proto": 1, "type": "desired",
                                                                    "agent_id": "host-17"}
    assert exchange.decode(exchange.desired_request(None)) == {"proto": 1, "type": "desired"}
    with pytest.raises(FleetError) as raised:
        exchange.desired_reply({**message, "agents": [{**message["agents"][0], "paused": "no"}]})
    assert raised.value.code == "protocol_error" and "paused" in raised.value.message


def test_request_answers_become_typed_records():
    result = {"proto": 1, "type": "result", "id": "m-1", "status": 200,
              "body": {"status": "torn_down", "topology_id": "t", "removed": {"containers": [], "bridges": []}}}
    entry = {"agent_id": "host-17", "id": "m-1", "type": "teardown", "origin": "operator", "topology_id": "t",
             "version_hash": None, "created_at": 1, "deadline_at": 2, "finished_at": 3, "status": "finished",
             "result": result, "error": None}
    record = exchange.request_reply({"proto": 1, "type": "request", "now": 4, "request": entry})
    assert isinstance(record, RequestRecord) and record.succeeded and record.result == result
    assert (record.request_id, record.type, record.origin, record.topology_id, record.finished_at) == \
        ("m-1", "teardown", "operator", "t", 3)
    open_one = dict(entry, id="r-2", origin="reconcile", status="in_flight", finished_at=None, result=None)
    listed = exchange.requests_reply({"proto": 1, "type": "requests", "agent_id": "host-17", "now": 4,
                                      "requests": [open_one, entry]})
    assert [(r.request_id, r.status, r.succeeded) for r in listed] == [("r-2", "in_flight", False),
                                                                       ("m-1", "finished", True)]
    assert exchange.request_reply({"type": "desired"}) is None and exchange.requests_reply({"type": "x"}) is None
    with pytest.raises(UnknownRequestError) as raised:
        exchange.request_reply({"type": "control_error", "id": "m-9",
                                "error": {"code": "unknown_request", "message": "none"}}, "host-17")
    assert (raised.value.code, raised.value.origin, raised.value.request_id, raised.value.agent_id) == \
        ("unknown_request", "master", "m-9", "host-17")
    with pytest.raises(FleetError) as raised:
        exchange.request_reply({"type": "request", "now": 1, "request": dict(entry, created_at="yesterday")})
    assert raised.value.code == "protocol_error" and "created_at" in raised.value.message
    assert exchange.decode(exchange.request_lookup("host-17", "m-1")) == {"proto": 1, "type": "request",
                                                                          "agent_id": "host-17", "id": "m-1"}
    assert exchange.decode(exchange.requests_lookup("host-17", 5000))["limit"] == 5000  # the master clamps it
    for bad in (lambda: exchange.request_lookup("host-17", 7), lambda: exchange.requests_lookup("host-17", "5"),
                lambda: exchange.requests_lookup("host-17", True), lambda: exchange.requests_lookup(None, 5)):
        with pytest.raises(TypeError):
            bad()


# -- the real master and agent


class Rig:
    """A master in a short /tmp directory (sun_path holds 107 bytes), agents, clients; all closed at the end."""

    def __init__(self):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="fc-", dir="/tmp"))
        try:
            self.master = th.MasterProcess(self.dir)  # runs `decnet-master keygen`
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        self.agents = []
        self.closers = []

    def enrol(self, agent_id):
        (self.dir / "keys").mkdir(exist_ok=True)
        key = th.keygen(self.dir / "keys", agent_id)
        self.master.enrol(key, agent_id)
        return key

    def agent(self, agent_id, key=None):
        """Starts the real agent (enrolled first unless `key` is given) and waits until the master shows it."""
        key = key or self.enrol(agent_id)
        agent = th.start_agent(self.dir, self.master, agent_id, key)
        self.agents.append(agent)
        self.master.wait_connected(agent_id, 20, th.agent_boot_id(agent))
        return agent

    def client(self, cls=FleetClient):
        client = cls(self.master.dir)
        self.closers.append(client.close)
        return client

    def close(self, failed):
        for closer in reversed(self.closers):
            closer()
        for agent in self.agents:
            agent.stop()
        self.master.close()
        if failed:
            print(f"--- master log (tail)\n{self.master.log.tail(5000)}")
            for agent in self.agents:
                print(f"--- log of {agent.agent_id} (tail)\n{agent.log()[-3000:]}")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def rig(request):
    s = Rig()
    yield s
    report = getattr(request.node, "rep_call", None)
    s.close(report is not None and report.failed)


def next_matching(events, predicate, within, what):
    """The first event of the watch iterator `events` that satisfies `predicate`, within `within` seconds (each
    step of a watch returns within about 10 s, so the bound holds)."""
    deadline = time.monotonic() + within
    for event in events:
        if predicate(event):
            return event
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"{what}: not within {within} s")


@pytest.mark.usefixtures("docker_ready")
def test_apply_state_watch_and_teardown_through_the_client(rig, cleanup_topologies):
    rig.master.start()
    rig.agent("fc-alpha")
    client = rig.client()
    [entry] = [a for a in client.agents() if a.agent_id == "fc-alpha"]
    assert entry.connected and entry.disconnect_reason is None and entry.agent_version
    assert entry.key_fingerprint is not None and len(entry.key_fingerprint) == 64

    hydrated = topologies.generated(2, services=("ssh",))
    topology_id = topologies.topology_id(hydrated)
    cleanup_topologies.append(topology_id)
    version_hash = canonical_hash(hydrated)
    seen = []
    started = time.monotonic()
    body = client.apply_topology("fc-alpha", hydrated, version_hash, timeout=300, request_id="fc-apply-1",
                                 on_event=seen.append)
    apply_seconds = time.monotonic() - started
    assert body == {"status": "applied", "version_hash": version_hash}
    assert seen[0]["type"] == "submitted" and seen[0]["agent_connected"] is True
    answers = [m["message"] for m in seen if m["type"] == "answer"]
    assert answers[0] == {"proto": 1, "type": "accepted", "id": "fc-apply-1"}
    assert "containers" in {m["phase"] for m in answers if m["type"] == "progress"}
    containers = topologies.containers(topology_id)
    assert len(containers) == 4, containers  # two deckies, each a base container and its ssh service
    print(f"apply of 2 deckies through the client: {apply_seconds:.2f} s")

    state = client.get_topology_state("fc-alpha")
    assert (state["topology_id"], state["applied_version_hash"]) == (topology_id, version_hash)
    assert all(not names for names in state["drift"].values()), state["drift"]
    assert set(state["observed"]["containers"]) >= set(containers)

    # apply_topology records the desired state first (a `desire`): the master now keeps the agent on it.
    view = wait_for_desired(client, "fc-alpha", lambda v: v.in_sync)
    assert view.desired is not None and not view.desired.is_none
    assert (view.desired.topology_id, view.desired.version_hash) == (topology_id, version_hash)
    assert view.reported is not None and view.reported["applied_version_hash"] == version_hash

    # The same id and content again: the stored result, nothing run again (no accepted, no progress).
    again = []
    assert client.apply_topology("fc-alpha", hydrated, version_hash, timeout=60, request_id="fc-apply-1",
                                 on_event=again.append) == body
    assert [m["type"] for m in again] == ["submitted"]
    assert topologies.containers(topology_id) == containers, "containers were re-created"
    # The same id with other content is refused: by the master's store for a desire (it recorded the request), by
    # the agent's store for a plain submit.
    with pytest.raises(IdReusedError) as raised:
        client.apply_topology("fc-alpha", hydrated, version_hash, supersede=True, timeout=60,
                              request_id="fc-apply-1")
    assert (raised.value.status, raised.value.origin, raised.value.request_id) == (409, "master", "fc-apply-1")
    with pytest.raises(IdReusedError) as raised:
        client.apply_topology("fc-alpha", hydrated, version_hash, supersede=True, timeout=60,
                              request_id="fc-apply-1", desire=False)
    assert (raised.value.status, raised.value.origin, raised.value.request_id) == (409, "agent", "fc-apply-1")

    watch = client.watch()
    first = next(watch)
    assert first.kind == "snapshot" and first.snapshot.agent("fc-alpha").applied_version_hash == version_hash
    beats = [next_matching(watch, lambda e: e.kind == "heartbeat" and e.agent_id == "fc-alpha", 20, "heartbeat")
             for _ in range(2)]
    assert beats[1].agent.heartbeat.seq > beats[0].agent.heartbeat.seq
    assert beats[1].previous.heartbeat.seq < beats[1].agent.heartbeat.seq

    removed = client.teardown_topology("fc-alpha", topology_id, timeout=120)
    assert removed["status"] == "torn_down" and removed["topology_id"] == topology_id
    assert sorted(removed["removed"]["containers"]) == sorted(containers)
    assert topologies.containers(topology_id) == {} and topologies.bridges(topology_id) == []
    change = next_matching(watch, lambda e: e.kind == "state" and e.agent_id == "fc-alpha"
                           and e.agent.topology_id is None, 30, "state change after the teardown")
    assert change.previous.topology_id == topology_id
    watch.close()
    assert client.get_topology_state("fc-alpha")["topology_id"] is None
    # teardown_topology recorded "none": in sync once the agent reports nothing applied.
    view = wait_for_desired(client, "fc-alpha", lambda v: v.in_sync)
    assert view.desired is not None and view.desired.is_none


def wait_for_desired(client, agent_id, predicate, within=30):
    """The agent's entry in `desired()` once `predicate` holds for it."""
    deadline = time.monotonic() + within
    while True:
        [view] = client.desired(agent_id)
        if predicate(view):
            return view
        if time.monotonic() > deadline:
            raise AssertionError(f"desired view of {agent_id} never matched: {view}")
        time.sleep(0.2)


@pytest.mark.usefixtures("docker_ready")
def test_busy_and_revoked_during_an_apply(rig, cleanup_topologies):
    rig.master.start()
    rig.agent("fc-charlie")
    client = rig.client()
    hydrated, other = topologies.generated(3, services=("ssh",)), topologies.generated(1, services=("ssh",))
    cleanup_topologies.extend([topologies.topology_id(hydrated), topologies.topology_id(other)])
    accepted = threading.Event()

    def on_event(message):
        if message["type"] == "answer" and message["message"]["type"] == "accepted":
            accepted.set()
    join = run_in_thread(lambda: client.apply_topology("fc-charlie", hydrated, canonical_hash(hydrated),
                                                       timeout=15, request_id="fc-long", on_event=on_event))
    assert accepted.wait(30), "the apply was not accepted"
    with pytest.raises(BusyError) as raised:
        client.apply_topology("fc-charlie", other, canonical_hash(other), timeout=30)
    assert (raised.value.status, raised.value.origin) == (409, "agent")
    assert raised.value.details["running"] == {"id": "fc-long", "type": "apply"}

    rig.master.revoke("fc-charlie")
    error, seconds = join(30)
    # The master ends the apply with `revoked` when its allow-list check (every 200 ms) finds the key gone while
    # the agent is connected. When the agent's next message arrives first, the master refuses it, the agent
    # disconnects, and the request is left to its deadline: the outcome is then unknown (`pending`, from the
    # master's `timeout` with `sent` true at 15 s). Either way the re-sent submits, refused `not_enrolled`
    # meanwhile, are not the outcome.
    assert isinstance(error, (RevokedError, OutcomePendingError)), error
    assert (error.request_id, error.agent_id) == ("fc-long", "fc-charlie")
    if isinstance(error, RevokedError):
        assert error.origin == "master" and seconds < 10, seconds
    else:
        assert error.origin == "master" and error.details == {"sent": True} and 14.5 <= seconds < 17, seconds
    print(f"apply ended by the revocation: {error.code} after {seconds:.1f} s")


def test_refusals_carry_the_documented_codes(rig):
    rig.master.start()
    rig.agent("fc-bravo")
    rig.enrol("fc-absent")  # enrolled, never started
    client = rig.client()

    started = time.monotonic()
    with pytest.raises(NotEnrolledError) as raised:
        client.get_topology_state("fc-nobody", request_id="fc-q-1")
    assert time.monotonic() - started < 2
    assert (raised.value.code, raised.value.status, raised.value.origin, raised.value.request_id) == \
        ("not_enrolled", None, "master", "fc-q-1")

    with pytest.raises(BadRequestError) as raised:
        client.get_topology_state("../etc")
    assert raised.value.origin == "master"

    hydrated = topologies.generated(1, services=("ssh",))
    actual = canonical_hash(hydrated)
    wrong = "0" * 64
    # A plain submit reaches the agent, which checks the hash; a desire is checked by the master before it records
    # anything (docs/control-channel.md#desire).
    with pytest.raises(HashMismatchError) as raised:
        client.apply_topology("fc-bravo", hydrated, wrong, timeout=30, desire=False)
    error = raised.value
    assert (error.status, error.origin, error.agent_id) == (400, "agent", "fc-bravo")
    assert (error.details["expected"], error.details["actual"]) == (wrong, actual)
    with pytest.raises(HashMismatchError) as raised:
        client.apply_topology("fc-bravo", hydrated, wrong, timeout=30)
    assert (raised.value.status, raised.value.origin) == (400, "master")
    [view] = client.desired("fc-bravo")
    assert view.desired is None, "a refused desire recorded a desired state"

    with pytest.raises(BadRequestError) as raised:  # the master checks the request with the agent's decoder
        client.apply_topology("fc-bravo", hydrated, actual, timeout=30, request_id="no spaces allowed")
    assert (raised.value.origin, raised.value.status, raised.value.request_id) == \
        ("master", 400, "no spaces allowed")

    with pytest.raises(ValueError):
        client.get_topology_state("fc-bravo", timeout=0)
    with pytest.raises(TypeError):
        client.apply_topology("fc-bravo", [hydrated], actual)

    started = time.monotonic()
    with pytest.raises(DeadlineExceededError) as raised:
        client.get_topology_state("fc-absent", timeout=1)
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 3, elapsed
    assert raised.value.details == {"sent": False} and raised.value.origin == "master"

    assert client.ping("fc-bravo")["agent_id"] == "fc-bravo"
    rounds = []
    for _ in range(30):
        started = time.monotonic()
        client.get_topology_state("fc-bravo")
        rounds.append(time.monotonic() - started)
    rounds.sort()
    print(f"state through the client: median {rounds[15] * 1000:.1f} ms, slowest {rounds[-1] * 1000:.1f} ms")
    assert rounds[15] < 0.5, rounds  # a socket per call, but no wait on a timer
    counters = client.fleet().counters
    assert counters["control_errors"] >= 3, counters  # the three refusals above


def test_no_master_is_a_clear_error_at_once(rig):
    with pytest.raises(NotServingError, match="does not exist"):
        FleetClient(rig.dir / "missing")
    (rig.dir / "a-file").write_text("")
    with pytest.raises(NotServingError, match="not a directory"):
        AsyncFleetClient(rig.dir / "a-file")
    with pytest.raises(ValueError, match="107 bytes"):
        FleetClient(rig.dir / ("d" * 120))
    client = rig.client()  # the directory exists, nothing serves it yet
    for call in (client.fleet, lambda: client.get_topology_state("fc-x"), lambda: next(client.watch())):
        started = time.monotonic()
        with pytest.raises(NotServingError, match="no master serves") as raised:
            call()
        assert time.monotonic() - started < 0.5 and raised.value.code == "not_serving"

    rig.master.start()
    assert client.fleet().agents == ()
    rig.master.stop()
    with pytest.raises(NotServingError, match="no master serves"):
        client.agents()

    rig.master.start()
    rig.master.kill()  # leaves control.ipc behind
    assert (rig.master.dir / "control.ipc").exists()
    started = time.monotonic()
    with pytest.raises(NotServingError, match="left over"):
        client.agents()
    assert time.monotonic() - started < 0.5


def run_in_thread(call):
    """Runs `call` in a thread; returns a function that joins it (bounded) and gives (result or exception, seconds)."""
    outcome = {}

    def run():
        started = time.monotonic()
        try:
            outcome["value"] = call()
        except Exception as error:
            outcome["value"] = error
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join(timeout):
        thread.join(timeout)
        assert not thread.is_alive(), f"the call did not return within {timeout} s"
        return outcome["value"], outcome["seconds"]
    return join


def test_master_gone_during_a_submit_ends_within_the_deadline_plus_grace(rig):
    rig.enrol("fc-late")
    rig.master.start()
    client = rig.client()

    # Killed: no verdict will come; the client reports "pending" at its deadline plus 5 s.
    join = run_in_thread(lambda: client.get_topology_state("fc-late", timeout=2, request_id="fc-k-1"))
    time.sleep(0.5)
    rig.master.kill()
    error, seconds = join(15)
    assert isinstance(error, OutcomePendingError) and error.request_id == "fc-k-1", error
    assert 6.5 <= seconds < 8.5, seconds

    # Stopped: the master ends every outstanding request with `shutdown`.
    rig.master.start()
    join = run_in_thread(lambda: client.get_topology_state("fc-late", timeout=60))
    time.sleep(0.5)
    rig.master.stop()
    error, seconds = join(15)
    assert isinstance(error, ShutdownError) and error.origin == "master", error
    assert seconds < 5, seconds


def test_a_submit_survives_a_master_restart(rig):
    key = rig.enrol("fc-phoenix")
    rig.master.start()
    client = rig.client()
    join = run_in_thread(lambda: client.get_topology_state("fc-phoenix", timeout=40))
    time.sleep(0.5)
    rig.master.kill()  # a crash: no `shutdown` verdict; the new master knows nothing of the request, and the
    rig.master.start()  # client's re-send (every 3 s, with the time left) gives it to the new master
    rig.agent("fc-phoenix", key)
    state, seconds = join(45)
    assert isinstance(state, dict) and state["topology_id"] is None, state
    print(f"state across a master restart: {seconds:.2f} s")


def found(client, agent_id, request_id, within=20):
    """The master's record of the request, once its store has one."""
    deadline = time.monotonic() + within
    while True:
        try:
            return client.request(agent_id, request_id)
        except UnknownRequestError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_a_request_is_found_with_its_outcome_after_kill_9(rig):
    """docs/control-channel.md#request: the master's store answers what became of a request, in flight or
    finished, across `kill -9` of the master, without sending anything again."""
    key = rig.enrol("fc-ledger")
    rig.master.start()
    client = rig.client()
    # The agent is away: the desire is recorded and waits for it.
    join = run_in_thread(lambda: client.teardown_topology("fc-ledger", "fc-ghost", timeout=90, request_id="fc-td-1"))
    record = found(client, "fc-ledger", "fc-td-1")
    assert (record.agent_id, record.type, record.origin, record.topology_id, record.version_hash) == \
        ("fc-ledger", "teardown", "operator", "fc-ghost", None)
    assert (record.status, record.finished_at, record.result, record.error) == ("in_flight", None, None, None)
    assert record.deadline_at - record.created_at == pytest.approx(90_000, abs=1_000)

    rig.master.kill()
    rig.master.start()
    again = client.request("fc-ledger", "fc-td-1")
    assert again.status == "in_flight" and again.created_at == record.created_at, again
    assert again.deadline_at == record.deadline_at, "the deadline moved across the restart"

    # The agent connects: the restarted master sends the stored request (same id), the client's re-sent desire
    # attaches to it and gets the result.
    rig.agent("fc-ledger", key)
    body, seconds = join(100)
    assert isinstance(body, dict) and body["status"] == "torn_down", body
    finished = client.request("fc-ledger", "fc-td-1")
    assert finished.status == "finished" and finished.succeeded and finished.error is None
    assert finished.result == {"proto": 1, "type": "result", "id": "fc-td-1", "status": 200, "body": body}
    assert finished.finished_at is not None and finished.created_at <= finished.finished_at

    rig.master.kill()
    rig.master.start()
    after = client.request("fc-ledger", "fc-td-1")
    assert after == finished and after.raw == finished.raw, after
    listed = client.requests("fc-ledger")
    assert [r.request_id for r in listed] == ["fc-td-1"] and listed[0] == finished
    assert len(client.requests("fc-ledger", limit=0)) == 1  # clamped, never refused

    with pytest.raises(UnknownRequestError) as raised:
        client.request("fc-ledger", "fc-never-sent")
    assert (raised.value.origin, raised.value.request_id, raised.value.agent_id) == \
        ("master", "fc-never-sent", "fc-ledger")
    assert client.requests("fc-nobody") == []
    with pytest.raises(BadRequestError):
        client.request("../etc", "fc-td-1")
    with pytest.raises(BadRequestError):
        client.request("fc-ledger", "has space")

    async def asynchronously():
        async with AsyncFleetClient(rig.master.dir) as aclient:
            one, many = await asyncio.gather(aclient.request("fc-ledger", "fc-td-1"), aclient.requests("fc-ledger"))
            assert one == finished and many == [finished]
            with pytest.raises(UnknownRequestError):
                await aclient.request("fc-ledger", "fc-never-sent")
    asyncio.run(asyncio.wait_for(asynchronously(), 30))
    print(f"teardown across a kill -9 of the master: {seconds:.2f} s")


def test_a_watch_ends_when_the_master_dies(rig):
    rig.master.start()
    client = rig.client()
    watch = client.watch()
    assert next(watch).kind == "snapshot"
    rig.master.kill()
    started = time.monotonic()
    with pytest.raises(NotServingError, match="left over"):
        for _ in watch:
            pass
    assert time.monotonic() - started < 16  # the next renewal (10 s) plus the 5 s the master has to answer


def test_the_asyncio_client(rig):
    rig.master.start()
    rig.agent("fc-async")

    async def scenario():
        async with AsyncFleetClient(rig.master.dir) as client:
            agents, state, ping = await asyncio.gather(
                client.agents(), client.get_topology_state("fc-async"), client.ping("fc-async"))
            assert [a.agent_id for a in agents if a.connected] == ["fc-async"]
            assert state["topology_id"] is None and ping["agent_id"] == "fc-async"
            with pytest.raises(NotEnrolledError):
                await client.get_topology_state("fc-nobody")
            beats = []
            async for event in client.watch():
                if event.kind == "heartbeat" and event.agent_id == "fc-async":
                    beats.append(event.agent.heartbeat.seq)
                    if len(beats) == 2:
                        break
            assert beats[1] > beats[0]
            rig.master.stop()
            with pytest.raises(NotServingError):
                await client.fleet()

    asyncio.run(asyncio.wait_for(scenario(), 60))


# -- the package


def test_the_package_installs_and_is_typed(tmp_path):
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                           "--disable-pip-version-check", "--target", str(target), str(ROOT / "python")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (target / "decnet_fleet" / "py.typed").exists()
    probe = subprocess.run([sys.executable, "-c", "import decnet_fleet, sys; print(decnet_fleet.__file__)"],
                           capture_output=True, text=True, timeout=30, cwd=tmp_path,
                           env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert probe.returncode == 0 and probe.stdout.startswith(str(target)), probe.stderr
    typed = subprocess.run([sys.executable, "-m", "mypy", "--strict", str(ROOT / "python" / "decnet_fleet")],
                           capture_output=True, text=True, timeout=300)
    assert typed.returncode == 0, typed.stdout + typed.stderr
