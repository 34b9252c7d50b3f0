"""A Python master written from wire-protocol.md (wire_master.py) drives the real decnet-agent binary over CURVE,
with pyzmq-made certificates and pyzmq's ThreadAuthenticator, and checks every message against schemas/."""
import time

import pytest

import topologies
from conftest import assert_schema
from wire_master import canonical_hash, make_certificate

RESULT_SCHEMAS = {"apply": "result-apply.schema.json", "teardown": "result-teardown.schema.json",
                  "state": "result-state.schema.json", "ping": "result-ping.schema.json"}
EMPTY_DRIFT = {"missing_bridges": [], "missing_containers": [], "stopped_containers": [], "unexpected_containers": []}


def check_result(kind, message):
    assert_schema(RESULT_SCHEMAS[kind] if message.get("status") == 200 else "result-error.schema.json", message)


def check_all(master, agent_id):
    """Every message received so far is schema-valid, came from the agent's key, and heartbeats count up."""
    assert master.dropped == []
    for sender, message in master.commands:
        assert sender == agent_id
        assert_schema("message.schema.json", message)
    seqs = []
    for topic, message in master.heartbeats:
        if topic == f"hb.{agent_id}":
            assert_schema("heartbeat.schema.json", message)
            assert message["agent_id"] == agent_id
            seqs.append(message["seq"])
        else:
            assert topic == f"ev.{agent_id}"
            assert_schema("event.schema.json", message)
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


class TestWithoutDocker:
    """Handshake, hello, ping, state and refusals: nothing here changes Docker."""

    def test_hello_comes_first_with_the_schema_shape(self, fleet):
        agent = fleet.start_agent()
        hello = fleet.master.hello(agent.agent_id)
        assert fleet.master.commands[0] == (agent.agent_id, hello)
        assert_schema("hello.schema.json", hello)
        assert hello["agent_id"] == agent.agent_id
        assert 1 in hello["protocols"]
        assert {"apply", "teardown", "state", "ping"} <= set(hello["capabilities"])
        assert fleet.master.dropped == []

    def test_ping_and_state_answer_at_once(self, fleet):
        agent = fleet.start_agent()
        master = fleet.master
        hello = master.hello(agent.agent_id)
        ping = master.result(master.request(agent.agent_id, "ping"), timeout=5)
        check_result("ping", ping)
        assert ping["status"] == 200
        assert ping["body"] == {"agent_id": agent.agent_id, "boot_id": hello["boot_id"],
                                "agent_version": hello["agent_version"]}
        state = master.result(master.request(agent.agent_id, "state"), timeout=5)
        check_result("state", state)
        assert state["body"]["topology_id"] is None
        assert state["body"]["applied_version_hash"] is None
        check_all(master, agent.agent_id)

    def test_heartbeats_on_the_agent_topic_count_up_from_one(self, fleet):
        agent = fleet.start_agent(heartbeat_interval="0.5")
        master = fleet.master
        hello = master.hello(agent.agent_id)
        beats = master.wait_for(lambda: [m for t, m in master.heartbeats if t == f"hb.{agent.agent_id}"][3:] and
                                [m for t, m in master.heartbeats if t == f"hb.{agent.agent_id}"], 15, "4 heartbeats")
        assert all(b["boot_id"] == hello["boot_id"] and b["interval_ms"] == 500 and b["running"] is None
                   for b in beats)
        seqs = [b["seq"] for b in beats]
        # PUB/SUB may drop the first ones before the subscription lands, never reorder or repeat.
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        check_all(master, agent.agent_id)

    @pytest.mark.parametrize("frame,code,request_id", [
        ("not json", "bad_request", None),
        ('{"proto":1,"type":"state"}', "bad_request", None),
        ('{"proto":2,"type":"state","id":"p2"}', "unsupported_proto", "p2"),
        ('{"proto":1,"type":"dance","id":"d1"}', "unknown_type", "d1"),
        ('{"proto":1,"type":"teardown","id":"t1"}', "bad_request", "t1"),
    ])
    def test_malformed_requests_get_a_coded_error(self, fleet, frame, code, request_id):
        agent = fleet.start_agent()
        master = fleet.master
        master.hello(agent.agent_id)
        master.send_raw(agent.agent_id, frame.encode())
        answer = master.wait_for(lambda: next((m for _, m in master.commands if m.get("type") == "result"), None),
                                 5, "an error result")
        assert_schema("result-error.schema.json", answer)
        assert (answer["id"], answer["error"]["code"], answer["status"]) == (request_id, code, 400)
        assert master.result(master.request(agent.agent_id, "ping"), timeout=5)["status"] == 200  # still serving

    def test_a_revoked_notice_is_logged_as_an_error_and_the_agent_backs_off_then_comes_back(self, fleet):
        agent = fleet.start_agent()
        master = fleet.master
        master.hello(agent.agent_id)
        notice = {"proto": 1, "type": "revoked", "agent_id": agent.agent_id, "reason": "key removed by the test"}
        assert_schema("revoked.schema.json", notice)
        hellos = lambda: [m for a, m in master.commands if a == agent.agent_id and m.get("type") == "hello"]
        before = len(hellos())
        master.send(agent.agent_id, notice)
        sent = time.monotonic()
        said = "revoked this agent's key"
        master.wait_for(lambda: said in agent.log(), 10, "the agent logging the revocation")
        line = next(l for l in agent.log().splitlines() if said in l)
        assert " error " in f" {line} ", f"not logged as an error: {line}"
        # It hangs up and dials again after its back-off (the first delay, jittered), with a new hello.
        master.wait_for(lambda: len(hellos()) > before, 30, "a new hello after the back-off")
        # The first back-off is the agent's re-dial delay (200 to 1,000 ms by default) less its jitter of at most 25 %.
        assert time.monotonic() - sent >= 0.15, "the agent dialled again without backing off"
        assert agent.alive()
        assert master.result(master.request(agent.agent_id, "ping"), timeout=10)["status"] == 200

    def test_a_certificate_not_in_the_folder_never_gets_through(self, fleet):
        master = fleet.master
        stranger = fleet.start_agent(enrol=False)
        friend = fleet.start_agent()  # the control: the same master lets an enrolled agent in meanwhile
        master.hello(friend.agent_id)
        master.wait_for(lambda: master.handshakes.count("HANDSHAKE_FAILED_AUTH") >= 2, 15,
                        "two refused handshakes")
        # The stranger's heartbeat socket had its chance too: the agent logs that refusal.
        master.wait_for(lambda: "heartbeat socket handshake failed" in stranger.log(), 15,
                        "the stranger's heartbeat socket refused")
        # Both master sockets were read past the refusals: a later answer and a later heartbeat of the friend came.
        assert master.result(master.request(friend.agent_id, "ping"), timeout=10)["status"] == 200
        beats = len(master.heartbeats)
        master.wait_for(lambda: len(master.heartbeats) > beats, 15, "a later heartbeat of the friend")
        assert all(a == friend.agent_id for a, _ in master.commands)
        assert all(t.endswith("." + friend.agent_id) for t, _ in master.heartbeats)
        assert master.dropped == []
        assert stranger.alive()  # refused, it keeps trying; SIGTERM still stops it cleanly
        status, seconds = stranger.stop()
        assert status == 0 and seconds < 5

    def test_an_agent_pinning_a_wrong_master_key_never_connects(self, fleet, tmp_path):
        master = fleet.master
        impostor_public, _ = make_certificate(tmp_path / "other-master", "master")
        agent = fleet.start_agent(master_key_file=impostor_public)
        failed = lambda: [h for h in master.handshakes if h.startswith("HANDSHAKE_FAILED")]
        # Both sockets had their chance: the master saw the command socket fail twice (it keeps trying), and the
        # agent logs its heartbeat socket's failed handshake.
        master.wait_for(lambda: len(failed()) >= 2, 30, "two failed handshakes")
        master.wait_for(lambda: "heartbeat socket handshake failed" in agent.log(), 15,
                        "the heartbeat socket's failed handshake")
        master.pump()
        assert master.commands == [] and master.heartbeats == [] and master.dropped == []
        assert "HANDSHAKE_SUCCEEDED" not in master.handshakes
        assert agent.alive()
        status, seconds = agent.stop()
        assert status == 0 and seconds < 5

    def test_sigterm_stops_a_connected_agent_cleanly(self, fleet):
        agent = fleet.start_agent()
        fleet.master.hello(agent.agent_id)
        status, seconds = agent.stop()
        assert status == 0, agent.log()[-2000:]
        assert seconds < 5


@pytest.fixture(scope="class")
def applied(tmp_path_factory, agent_binary, docker_ready):
    """One agent applies a unique copy of examples/topology.json to the real dockerd. While that apply runs, a
    state request and a second apply (another topology) are sent. Everything is removed at the end, whatever
    happened."""
    from conftest import Fleet
    fleet = Fleet(tmp_path_factory.mktemp("lifecycle"), agent_binary)
    hydrated = topologies.unique_example()
    other = topologies.unique_example()
    run = type("Applied", (), {})()
    run.fleet, run.master, run.hydrated = fleet, fleet.master, hydrated
    run.topology_id, run.hash = hydrated["topology"]["id"], canonical_hash(hydrated)
    try:
        run.agent = fleet.start_agent()
        master, agent_id = run.master, run.agent.agent_id
        master.hello(agent_id)
        run.apply_id = master.apply(agent_id, hydrated, request_id=f"apply-{run.topology_id}")
        master.wait_for(lambda: master.answers(run.apply_id), 10, "the apply's first answer")
        run.state_id = master.request(agent_id, "state")
        run.busy_id = master.apply(agent_id, other)
        run.result = master.result(run.apply_id, timeout=180)
        run.order = [(m["id"], m["type"]) for _, m in master.commands if m.get("id")]
        run.containers = topologies.containers(run.topology_id)
        yield run
    finally:
        fleet.close()
        topologies.remove_everything(hydrated["topology"]["id"])
        topologies.remove_everything(other["topology"]["id"])


@pytest.mark.usefixtures("docker_ready")
class TestRealDocker:
    """The lifecycle on the real dockerd, in order: apply (with state and busy meanwhile), containers, heartbeat,
    retry, hash mismatch, teardown, SIGTERM."""

    def test_apply_is_accepted_then_progresses_then_succeeds(self, applied):
        answers = applied.master.answers(applied.apply_id)
        assert answers[0] == {"proto": 1, "type": "accepted", "id": applied.apply_id}
        assert_schema("accepted.schema.json", answers[0])
        progress = [m for m in answers if m["type"] == "progress"]
        assert progress, "no progress message"
        for message in progress:
            assert_schema("progress.schema.json", message)
            assert 0 <= message["done"] <= message["total"]
        assert {"containers"} <= {m["phase"] for m in progress}
        assert answers[-1] == applied.result and [m["type"] for m in answers].count("result") == 1
        check_result("apply", applied.result)
        assert applied.result["status"] == 200, applied.result
        assert applied.result["body"] == {"status": "applied", "version_hash": applied.hash}
        check_all(applied.master, applied.agent.agent_id)

    def test_events_are_mirrored_on_the_event_topic(self, applied):
        topic = f"ev.{applied.agent.agent_id}"
        events = applied.master.wait_for(
            lambda: [m for t, m in applied.master.heartbeats if t == topic and m.get("id") == applied.apply_id
                     and m["type"] == "result"] and
            [m for t, m in applied.master.heartbeats if t == topic and m.get("id") == applied.apply_id], 5,
            "the apply's events")
        for event in events:
            assert_schema("event.schema.json", event)
        assert events[-1] == applied.result

    def test_state_is_answered_while_the_apply_runs(self, applied):
        state = applied.master.result(applied.state_id, timeout=5)
        check_result("state", state)
        assert applied.order.index((applied.state_id, "result")) < applied.order.index((applied.apply_id, "result"))

    def test_a_second_apply_meanwhile_is_busy(self, applied):
        busy = applied.master.result(applied.busy_id, timeout=5)
        check_result("apply", busy)
        assert (busy["status"], busy["error"]["code"]) == (409, "busy")
        assert busy["error"]["details"]["running"] == {"id": applied.apply_id, "type": "apply"}
        assert applied.order.index((applied.busy_id, "result")) < applied.order.index((applied.apply_id, "result"))
        assert not [m for m in applied.master.answers(applied.busy_id) if m["type"] != "result"]

    def test_the_containers_exist_in_docker(self, applied):
        names = set(applied.containers)
        deckies = [d["name"] for d in applied.hydrated["deckies"]]
        services = {f"{d['name']}-{s}" for d in applied.hydrated["deckies"] for s in d["services"]}
        bases = {n for n in names if n.startswith("decnet_t_")}
        assert len(bases) == len(deckies) and all(any(b.endswith("_" + d) for b in bases) for d in deckies)
        assert names - bases == services
        running = topologies.docker("ps", "--filter", f"label={topologies.TOPOLOGY_LABEL}={applied.topology_id}",
                                    "--format", "{{.Names}}").split()
        assert set(running) == names
        assert len(topologies.bridges(applied.topology_id)) == len(applied.hydrated["lans"])

    def test_heartbeat_carries_the_applied_hash_and_no_drift(self, applied):
        master, agent_id = applied.master, applied.agent.agent_id

        def settled():
            for topic, beat in reversed(master.heartbeats):
                if topic == f"hb.{agent_id}":
                    state = beat["state"]
                    return beat if (state["applied_version_hash"] == applied.hash and state["drift"] == EMPTY_DRIFT
                                    and beat["running"] is None) else None
        beat = master.wait_for(settled, 15, "a heartbeat with the applied hash and no drift")
        assert_schema("heartbeat.schema.json", beat)
        assert beat["state"]["topology_id"] == applied.topology_id
        assert set(beat["state"]["observed"]["containers"]) == set(applied.containers)
        state = master.result(master.request(agent_id, "state"), timeout=5)
        check_result("state", state)
        assert state["body"]["applied_version_hash"] == applied.hash and state["body"]["drift"] == EMPTY_DRIFT

    def test_a_retried_apply_answers_the_same_result_without_running_again(self, applied):
        master, agent_id = applied.master, applied.agent.agent_id
        before = len(master.answers(applied.apply_id))
        master.apply(agent_id, applied.hydrated, request_id=applied.apply_id)
        master.wait_for(lambda: len(master.answers(applied.apply_id)) > before, 10, "the retry's answer")
        master.pump(1.0)
        again = master.answers(applied.apply_id)[before:]
        assert again == [applied.result]
        assert topologies.containers(applied.topology_id) == applied.containers  # same container ids

    def test_a_wrong_hash_is_refused_with_both_hashes(self, applied):
        master, agent_id = applied.master, applied.agent.agent_id
        wrong = "0" * 64
        answer = master.result(master.apply(agent_id, applied.hydrated, version_hash=wrong), timeout=10)
        check_result("apply", answer)
        assert (answer["status"], answer["error"]["code"]) == (400, "hash_mismatch")
        assert answer["error"]["details"]["expected"] == wrong
        assert answer["error"]["details"]["actual"] == applied.hash
        assert topologies.containers(applied.topology_id) == applied.containers

    def test_teardown_removes_the_containers(self, applied):
        master, agent_id = applied.master, applied.agent.agent_id
        request_id = master.request(agent_id, "teardown", topology_id=applied.topology_id)
        result = master.result(request_id, timeout=120)
        check_result("teardown", result)
        assert result["status"] == 200, result
        body = result["body"]
        assert (body["status"], body["topology_id"]) == ("torn_down", applied.topology_id)
        assert set(body["removed"]["containers"]) == set(applied.containers)
        assert len(body["removed"]["bridges"]) == len(applied.hydrated["lans"])
        assert master.answers(request_id)[0]["type"] == "accepted"
        assert topologies.containers(applied.topology_id) == {}
        assert topologies.bridges(applied.topology_id) == []
        state = master.result(master.request(agent_id, "state"), timeout=5)
        assert state["body"]["topology_id"] is None and state["body"]["applied_version_hash"] is None
        check_all(master, agent_id)

    def test_sigterm_stops_the_agent_cleanly(self, applied):
        status, seconds = applied.agent.stop()
        assert status == 0, applied.agent.log()[-2000:]
        assert seconds < 5
