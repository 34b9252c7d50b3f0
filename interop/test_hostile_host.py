"""A hostile or broken host around the real `decnet-agent run` (docs/security.md#agent-host), driven by the pyzmq
master: a Docker Engine that never answers, freezes later, or sends a body that never ends (fake_engine.py on a unix
socket, named by DOCKER_HOST); the state folder removed and restored under the running agent; a `files` path through
a symlink into the agent's key folder. None of these needs the real dockerd."""
import os
import pathlib
import shutil
import time

import pytest

from conftest import assert_schema
from fake_engine import FakeEngine, wait_until

# One LAN, one decky: enough for an apply to reach the checks before Docker.
TOPOLOGY_ID = "6f1c2a44-0b7e-4c1e-9d38-5a0c2f6e9b10"


def small_topology(files=None):
    config = {"name": "hh-decky-1", "services": ["http"], "ips_by_lan": {"LAN-00": "10.231.7.2"},
              "forwards_l3": False, "service_config": {}}
    if files is not None:
        config["service_config"] = {"http": {"files": files}}
    return {"topology": {"id": TOPOLOGY_ID, "name": "hostile-host", "mode": "agent", "target_host_uuid": "h",
                         "config_snapshot": {}, "status": "pending"},
            "lans": [{"id": "lan-0", "topology_id": TOPOLOGY_ID, "name": "LAN-00", "subnet": "10.231.7.0/24",
                      "is_dmz": True, "docker_network_id": None}],
            "deckies": [{"uuid": "d-1", "topology_id": TOPOLOGY_ID, "name": "hh-decky-1", "services": ["http"],
                         "decky_config": config, "ip": "10.231.7.2", "state": "pending"}],
            "edges": [{"id": "e-1", "topology_id": TOPOLOGY_ID, "decky_uuid": "d-1", "lan_id": "lan-0",
                       "is_bridge": False, "forwards_l3": False}]}


@pytest.fixture
def engine(tmp_path):
    fake = FakeEngine(tmp_path / "docker.sock")
    yield fake
    fake.close()


def start(fleet, engine, extra=()):
    agent = fleet.start_agent(extra=extra, env={"DOCKER_HOST": engine.docker_host})
    fleet.master.hello(agent.agent_id, timeout=15)
    return agent


def state_of(master, agent, timeout=10):
    started = time.monotonic()
    result = master.result(master.request(agent.agent_id, "state"), timeout=timeout)
    return result, time.monotonic() - started


def heartbeats_of(master, agent):
    return [m for t, m in master.heartbeats if t == f"hb.{agent.agent_id}"]


def test_an_engine_that_never_answers_is_reported_at_once_and_heartbeats_keep_their_cadence(fleet, engine):
    engine.mode = "silent"
    agent = start(fleet, engine)
    master = fleet.master
    result, seconds = state_of(master, agent)
    assert_schema("result-state.schema.json", result)
    assert result["status"] == 200
    body = result["body"]
    assert body["observed"]["error"], body
    assert body["drift"] is None
    assert seconds < 5, f"state took {seconds:.1f} s with a hung Docker"
    # Heartbeats at their 1 s cadence, each saying Docker is not answering.
    before = len(heartbeats_of(master, agent))
    master.pump(4.0)
    beats = heartbeats_of(master, agent)[before:]
    assert len(beats) >= 3, f"{len(beats)} heartbeats in 4 s"
    for beat in beats:
        assert_schema("heartbeat.schema.json", beat)
        assert beat["state"]["observed"]["error"] and beat["state"]["drift"] is None
    assert agent.alive()


def test_an_engine_that_freezes_later_is_reported_stale_within_its_refresh_period_and_margin(fleet, engine):
    agent = start(fleet, engine)
    master = fleet.master
    result, _ = state_of(master, agent)
    assert result["body"]["observed"].get("error") is None, result["body"]["observed"]
    engine.mode = "silent"  # every later request hangs; the open event stream stays silent
    frozen = time.monotonic()
    # The agent lists Docker every 30 s and calls an observation stale 15 s after a list is due.
    def stale():
        beats = heartbeats_of(master, agent)
        master.pump(0.5)
        return beats and beats[-1]["state"]["observed"].get("error")
    error = master.wait_for(stale, 60, "a heartbeat saying Docker is not answering")
    waited = time.monotonic() - frozen
    print(f"frozen engine reported after {waited:.1f} s: {error}")
    # At most the refresh period and the margin after the last good list (taken before the freeze), plus a heartbeat.
    assert waited <= 50, f"reported after {waited:.1f} s (refresh 30 s + margin 15 s)"
    result, seconds = state_of(master, agent)
    assert result["body"]["observed"]["error"] and result["body"]["drift"] is None
    assert seconds < 5


def test_an_endless_body_is_a_protocol_error_and_memory_stays_bounded(fleet, engine):
    engine.mode = "endless"
    agent = start(fleet, engine)
    master = fleet.master
    wait_until(lambda: engine.bytes_sent > 50 * 1024 * 1024, 30, 0.2)
    peak = 0
    for _ in range(20):
        peak = max(peak, agent.memory().get("VmRSS", 0))
        master.pump(0.25)
    result, seconds = state_of(master, agent)
    print(f"endless body: engine sent {engine.bytes_sent // (1024 * 1024)} MiB; agent VmRSS peak {peak // 1024} MiB, "
          f"VmHWM {agent.memory().get('VmHWM', 0) // 1024} MiB")
    assert result["status"] == 200 and result["body"]["observed"]["error"], result["body"]["observed"]
    assert agent.memory().get("VmHWM", 0) < 150 * 1024, "the agent's memory grew with the endless body"
    assert agent.alive()


def test_a_state_folder_removed_under_the_agent_is_reported_refuses_changes_and_recovers(fleet, engine):
    agent = start(fleet, engine)
    master = fleet.master
    state_dir = pathlib.Path(agent.state_dir)
    assert state_of(master, agent)[0]["body"].get("state_dir") is None
    moved = state_dir.with_name("state.removed")
    state_dir.rename(moved)
    result, _ = state_of(master, agent)
    assert_schema("result-state.schema.json", result)
    assert "removed" in result["body"]["state_dir"]["error"], result["body"]
    before = len(engine.mutating_requests())
    # One after the other: a teardown sent while the apply runs would be answered `busy`.
    for send in (lambda: master.apply(agent.agent_id, small_topology()),
                 lambda: master.request(agent.agent_id, "teardown", topology_id=TOPOLOGY_ID)):
        answer = master.result(send(), timeout=10)
        assert_schema("result-error.schema.json", answer)
        assert (answer["status"], answer["error"]["code"]) == (503, "state_unavailable"), answer
    assert len(engine.mutating_requests()) == before, "Docker was asked to change"
    assert not state_dir.exists(), "something recreated the folder"
    def reporting():
        beats = heartbeats_of(master, agent)
        return beats[-1] if beats and beats[-1]["state"].get("state_dir") else None
    beat = master.wait_for(reporting, 10, "a heartbeat reporting the state folder")
    assert "removed" in beat["state"]["state_dir"]["error"]
    # The folder is back (here: made anew and empty): the agent takes it again.
    state_dir.mkdir(mode=0o700)
    result, _ = state_of(master, agent)
    assert result["body"].get("state_dir") is None, result["body"]
    assert agent.alive()
    shutil.rmtree(moved, ignore_errors=True)


def test_a_files_path_through_a_symlink_into_the_key_folder_is_refused_before_docker(fleet, engine, tmp_path):
    root = tmp_path / "files-root"
    root.mkdir()
    agent = start(fleet, engine, extra=("--files-root", str(root)))
    master = fleet.master
    key_folder = pathlib.Path(agent.key_file).parent
    (root / "site").symlink_to(key_folder, target_is_directory=True)
    (root / "honest").mkdir()
    before = len(engine.mutating_requests())
    answer = master.result(master.apply(agent.agent_id, small_topology(files=str(root / "site"))), timeout=15)
    assert_schema("result-error.schema.json", answer)
    assert (answer["status"], answer["error"]["code"]) == (400, "invalid_topology"), answer
    codes = [issue["code"] for issue in answer["error"]["details"]["issues"]]
    assert "FILES_OUTSIDE_ROOT" in codes, answer["error"]
    assert len(engine.mutating_requests()) == before, f"Docker was asked to change: {engine.mutating_requests()}"
    # The control: a real folder inside the root passes the check and the apply goes on to Docker (the fake refuses).
    control = master.result(master.apply(agent.agent_id, small_topology(files=str(root / "honest"))), timeout=30)
    assert control["error"]["code"] != "invalid_topology", control
    assert len(engine.mutating_requests()) > before
