"""Agent key rotation without downtime (docs/security.md#key-rotation, docs/wire-protocol.md#rotate-key), against the
REAL binaries: `decnet-master rotate-key --agent ID` asks the agent for a new key pair over its authenticated channel,
lists it beside the old one, the agent dials with it, and the old key is removed once the master saw the new
connection. Each side is killed between the steps, and a second run finishes the job."""
import hashlib
import json
import signal
import subprocess
import time

import pytest
import zmq
import zmq.utils.z85

import trust_harness as th
from test_trust_boundaries import Checks, Harness, wait_fully_back
from trust_harness import dig, eventually, poll_until


@pytest.fixture
def h(agent_binary, request):
    harness = Harness(agent_binary)
    yield harness
    report = getattr(request.node, "rep_call", None)
    harness.close(report is not None and report.failed)


def fingerprint_of(public_bytes):
    return hashlib.sha256(zmq.utils.z85.decode(public_bytes)).hexdigest()


def rotate(m, agent_id, *args, wait=True, timeout=90):
    argv = [str(th.master_binary()), "rotate-key", "--dir", str(m.dir), "--agent", agent_id, *map(str, args)]
    if not wait:
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def listed_key(m, name):
    public, _ = zmq.auth.load_certificate(str(m.dir / "agents" / f"{name}.key"))
    return public


def agent_key(key):
    public, _ = th.load_keys(key.secret)
    return public


def connected_with(m, agent_id):
    entry = m.agent(agent_id) or {}
    return entry.get("key_fingerprint") if entry.get("connected") else None


def old_key_is_refused(m, secret_copy):
    rogue = th.RogueAgent(m, secret_copy, publish=False)
    try:
        return eventually(lambda: rogue.pump(0.2) or "HANDSHAKE_FAILED_AUTH" in rogue.events["dealer"], 10, 0.1)
    finally:
        rogue.close()


def started(h, m, name):
    key = h.key(name)
    m.enrol(key, name)
    agent = h.agent(m, name, key, env=th.FAST_LINK)
    m.wait_connected(name, 20)
    return agent, key


def test_rotation_replaces_the_key_without_a_restart_and_refuses_the_old_one(h):
    c = Checks()
    m = h.master()
    agent, key = started(h, m, "spinner")
    old = agent_key(key)
    old_copy = h.dir / "old.key_secret"
    old_copy.write_bytes(key.secret.read_bytes())
    pid = agent.pid
    began = time.monotonic()
    done = rotate(m, "spinner")
    print(f"rotate-key took {time.monotonic() - began:.1f} s: {done.stdout.strip()}")
    c.check(done.returncode == 0, f"rotate-key: {done.returncode} {done.stderr}")
    new = agent_key(key)
    c.check(new != old, "the agent's key file holds a new key")
    c.check(listed_key(m, "spinner") == new, "agents/spinner.key is the new key")
    c.check(not (m.dir / "agents" / "spinner+next.key").exists(), "no next entry is left")
    c.check(not (key.secret.parent / "spinner.next.key_secret").exists(), "the agent's next files were renamed")
    c.check(agent.alive() and agent.pid == pid, "the agent was not restarted")
    c.check(connected_with(m, "spinner") == fingerprint_of(new), "connected with the new key")
    wait_fully_back(c, m, "spinner", "after the rotation")
    c.check(old_key_is_refused(m, old_copy), "the old key is refused at the handshake")
    # A second rotation works the same way.
    again = rotate(m, "spinner")
    c.check(again.returncode == 0 and agent_key(key) not in (old, new), f"second rotation: {again.stderr}")
    c.check(rotate(m, "nobody").returncode == 1, "an agent that is not enrolled is refused")
    c.done()


def test_agent_killed_after_prepare_then_a_second_run_finishes(h):
    c = Checks()
    m = h.master()
    agent, key = started(h, m, "kilo")
    old = agent_key(key)
    cli = rotate(m, "kilo", "--timeout", "10", wait=False)
    # Kill the agent as soon as the master listed its next key (before activate).
    poll_until(lambda: (m.dir / "agents" / "kilo+next.key").exists(), 20, 0.01, "the next key listed")
    agent.process.kill()
    out, err = cli.communicate(timeout=90)
    c.check(cli.returncode != 0, f"the interrupted run fails: {cli.returncode} {err}")
    c.check(agent_key(key) == old, "the killed agent still has its old key")
    agent = h.agent(m, "kilo", key, env=th.FAST_LINK)
    m.wait_connected("kilo", 20)
    c.check(connected_with(m, "kilo") == fingerprint_of(old), "restarted with the old key (still listed)")
    done = rotate(m, "kilo")
    c.check(done.returncode == 0, f"second run: {done.stderr}")
    c.check(listed_key(m, "kilo") == agent_key(key) != old, "rotated after all")
    wait_fully_back(c, m, "kilo", "after the second run")
    c.done()


def test_master_killed_mid_rotation_then_a_second_run_finishes(h):
    c = Checks()
    m = h.master()
    agent, key = started(h, m, "mike")
    old = agent_key(key)
    cli = rotate(m, "mike", "--timeout", "10", wait=False)
    poll_until(lambda: (m.dir / "agents" / "mike+next.key").exists(), 20, 0.01, "the next key listed")
    m.kill()
    cli.communicate(timeout=90)
    c.check(cli.returncode != 0, "the run fails when the master dies")
    m.start()
    m.wait_connected("mike", 30)
    done = rotate(m, "mike")
    c.check(done.returncode == 0, f"second run: {done.stderr}")
    c.check(listed_key(m, "mike") == agent_key(key) != old, "rotated after all")
    wait_fully_back(c, m, "mike", "after the master restart and the second run")
    c.done()


def died_by_sigkill(agent, timeout=30):
    """Waits for the agent to kill itself at its armed DECNET_TEST_FAULT; True when it died of SIGKILL."""
    return eventually(lambda: agent.process.poll() is not None, timeout, 0.05) and agent.process.returncode == -9


def public_file_key(path):
    public, _ = zmq.auth.load_certificate(str(path))
    return public


def test_agent_killed_after_its_new_handshake_before_its_commit_comes_back_with_the_old_key(h):
    """docs/security.md#key-rotation: SIGKILL right after the new key's command handshake succeeded and before the
    `.next` files are renamed. The agent commits before it sends `hello` on the new connection and the master
    learns a connection's key only from its `hello`, so the master never saw the new key: `agents/ID.key` is still
    the old key, the agent comes back with it, and a second run rotates to the very key the first run listed."""
    c = Checks()
    m = h.master()
    key = h.key("hotel")
    m.enrol(key, "hotel")
    agent = h.agent(m, "hotel", key, env={**th.FAST_LINK, "DECNET_TEST_FAULT": "rotate-before-commit"})
    m.wait_connected("hotel", 20)
    old = agent_key(key)
    next_secret = key.secret.parent / "hotel.next.key_secret"
    cli = rotate(m, "hotel", "--timeout", "8", wait=False)
    c.check(died_by_sigkill(agent), f"the agent killed itself at the fault: {agent.process.poll()}")
    listed_next = public_file_key(m.dir / "agents" / "hotel+next.key")
    out, err = cli.communicate(timeout=90)
    c.check(cli.returncode == 1, f"the interrupted run fails: {cli.returncode} {err}")
    c.check("not seen with its next key" in err, f"it timed out waiting for the new key: {err}")
    c.check(listed_key(m, "hotel") == old, "agents/hotel.key is still the old key: the master never saw the new one")
    c.check(agent_key(key) == old and public_file_key(key.public) == old, "the agent's key files are the old key")
    c.check(next_secret.exists() and th.load_keys(next_secret)[0] == listed_next, "the uncommitted next key is on disk")
    agent = h.agent(m, "hotel", key, env=th.FAST_LINK)
    poll_until(lambda: connected_with(m, "hotel") == fingerprint_of(old), 20, 0.2,
               "the restarted agent connected with its old key")
    done = rotate(m, "hotel")
    c.check(done.returncode == 0, f"second run: {done.returncode} {done.stderr}")
    c.check(agent_key(key) == listed_next, "the second run finished with the next key the first run listed")
    c.check(listed_key(m, "hotel") == listed_next, "agents/hotel.key is the new key")
    c.check(not next_secret.exists() and not (m.dir / "agents" / "hotel+next.key").exists(), "no next files left")
    wait_fully_back(c, m, "hotel", "after the second run")
    c.check(connected_with(m, "hotel") == fingerprint_of(listed_next), "connected with the new key")
    c.done()


def test_agent_killed_between_the_two_renames_of_its_commit_comes_back_with_the_new_key(h):
    """docs/security.md#key-rotation: SIGKILL after the `.next` secret file was renamed over the key's secret file
    and before the public file followed. The restarted agent dials with the new key (listed as `+next`), finishes
    the rename at start, the still waiting `rotate-key` sees the new key and finishes, and a later rotation can
    make its next files again."""
    c = Checks()
    m = h.master()
    key = h.key("india")
    m.enrol(key, "india")
    agent = h.agent(m, "india", key, env={**th.FAST_LINK, "DECNET_TEST_FAULT": "rotate-mid-commit"})
    m.wait_connected("india", 20)
    old = agent_key(key)
    folder = key.secret.parent
    cli = rotate(m, "india", "--timeout", "60", wait=False)
    c.check(died_by_sigkill(agent), f"the agent killed itself at the fault: {agent.process.poll()}")
    new = agent_key(key)
    c.check(new != old, "the secret file already holds the new key")
    c.check(public_file_key(key.public) == old, "the public file still holds the old key")
    c.check((folder / "india.next.key").exists() and not (folder / "india.next.key_secret").exists(),
            "the next public file is left behind")
    agent = h.agent(m, "india", key, env=th.FAST_LINK)
    out, err = cli.communicate(timeout=90)
    c.check(cli.returncode == 0, f"the waiting run finished once the agent was back: {cli.returncode} {err}")
    c.check(listed_key(m, "india") == new, "agents/india.key is the new key")
    c.check(public_file_key(key.public) == new, "the restarted agent finished the rename of its public file")
    c.check(not (folder / "india.next.key").exists(), "no next file left")
    wait_fully_back(c, m, "india", "after the restart")
    c.check(connected_with(m, "india") == fingerprint_of(new), "connected with the new key")
    again = rotate(m, "india")
    c.check(again.returncode == 0 and agent_key(key) not in (old, new), f"a later rotation works: {again.stderr}")
    c.check(public_file_key(key.public) == agent_key(key), "its public file follows")
    c.done()


def test_an_unknown_test_fault_is_refused_at_start(h):
    m = h.master()
    key = h.key("juliet")
    agent = h.agent(m, "juliet", key, env={"DECNET_TEST_FAULT": "rotate-sometime"})
    status = poll_until(lambda: agent.process.poll(), 20, 0.05, "the agent exits")
    assert status == 2, f"exit status {status}"
    assert "DECNET_TEST_FAULT 'rotate-sometime' is not one of" in agent.log(), agent.log()


def submit(control, agent_id, request, timeout=15):
    """One control submit; the agent's result (the `answer` carrying it), or None."""
    control.send({"proto": 1, "type": "submit", "agent_id": agent_id, "timeout_ms": int(timeout * 1000),
                  "request": request})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in control.receive(1):
            inner = (message or {}).get("message") or {}
            if message and message.get("type") == "answer" and inner.get("type") == "result" \
                    and inner.get("id") == request["id"]:
                return inner
    return None


def test_cli_gone_after_activate_agent_restarted_then_a_second_run_finishes(h):
    """The steps of rotate-key done by hand through the control channel, stopping after `activate` (as a run that
    died there would): the agent switches and commits, and is even restarted then. Both keys are still listed, the
    agent comes back with its new key, and a second run only removes the old key."""
    c = Checks()
    m = h.master()
    agent, key = started(h, m, "oscar")
    old = agent_key(key)
    control = th.RawControl(m)
    h.add(control.close)
    prepared = submit(control, "oscar", {"proto": 1, "type": "rotate_key", "id": "rot-1", "phase": "prepare"})
    c.check(prepared and prepared["status"] == 200, f"prepare: {prepared}")
    new = prepared["body"]["public_key"]
    (m.dir / "agents" / "oscar+next.key").write_text(
        f'metadata\n    agent-id = "oscar"\ncurve\n    public-key = "{new}"\n')
    activated = submit(control, "oscar", {"proto": 1, "type": "rotate_key", "id": "rot-2", "phase": "activate"})
    c.check(activated and activated["status"] == 200, f"activate: {activated}")
    committed = eventually(lambda: agent_key(key).decode() == new, 15, 0.1)
    c.check(committed, "the agent committed its next key once it was accepted")
    agent.stop()
    agent = h.agent(m, "oscar", key, env=th.FAST_LINK)
    poll_until(lambda: connected_with(m, "oscar") == fingerprint_of(new.encode()), 20, 0.2,
               "the restarted agent connected with its new key")
    done = rotate(m, "oscar")
    c.check(done.returncode == 0, f"second run: {done.stderr}")
    c.check(listed_key(m, "oscar") == agent_key(key) != old, "the new key is the listed one")
    c.check(not (m.dir / "agents" / "oscar+next.key").exists(), "the next entry is gone")
    wait_fully_back(c, m, "oscar", "after the second run")
    c.done()


def test_a_python_master_rotates_a_real_agents_key_over_the_wire(fleet):
    """The wire protocol alone (docs/wire-protocol.md#rotate-key), from pyzmq: `prepare` answers the next public key
    and repeats it on a retry, `activate` before the key is enrolled makes the agent try it, be refused and go back
    to its old key; once the key is in the allow-list, `activate` brings a hello from the new key. Every message
    is checked against schemas/."""
    from conftest import assert_schema
    from test_agent_interop import check_all

    agent = fleet.start_agent(env=th.FAST_LINK)
    master = fleet.master
    master.hello(agent.agent_id)
    old = zmq.auth.load_certificate(str(agent.key_file))[0].decode()
    bad = master.result(master.request(agent.agent_id, "rotate_key", phase="later"), timeout=5)
    assert bad["status"] == 400 and bad["error"]["code"] == "bad_request"
    assert_schema("result-error.schema.json", bad)
    first = master.result(master.request(agent.agent_id, "rotate_key", phase="prepare"), timeout=5)
    assert_schema("result-rotate-key.schema.json", first)
    assert_schema("message.schema.json", first)
    new = first["body"]["public_key"]
    assert new != old and first["body"]["fingerprint"] == fingerprint_of(new.encode())
    assert first["body"]["current_fingerprint"] == fingerprint_of(old.encode())
    again = master.result(master.request(agent.agent_id, "rotate_key", phase="prepare"), timeout=5)
    assert again["body"]["public_key"] == new, "a retried prepare returns the same next key"

    # Activate before the new key is listed: refused by ZAP, the agent returns to its old key with a new hello.
    hellos = len([m for a, m in master.commands if a == agent.agent_id and m.get("type") == "hello"])
    early = master.result(master.request(agent.agent_id, "rotate_key", phase="activate"), timeout=5)
    assert_schema("result-rotate-key.schema.json", early)
    master.wait_for(lambda: "HANDSHAKE_FAILED_AUTH" in master.handshakes, 15, "the next key refused")
    master.wait_for(lambda: len([m for a, m in master.commands
                                 if a == agent.agent_id and m.get("type") == "hello"]) > hellos, 20,
                    "a hello with the old key again")
    assert zmq.auth.load_certificate(str(agent.key_file))[0].decode() == old, "the old key files are kept"

    # Enrol the new key (its own file, same agent id in the Python master's map), activate again.
    (master.allow_dir / f"{agent.agent_id}-next.key").write_text(f'metadata\ncurve\n    public-key = "{new}"\n')
    master.agents_by_key[new] = agent.agent_id
    master.auth.configure_curve(domain="decnet", location=str(master.allow_dir))
    hellos = len([m for a, m in master.commands if a == agent.agent_id and m.get("type") == "hello"])
    done = master.result(master.request(agent.agent_id, "rotate_key", phase="activate"), timeout=5)
    assert done["body"]["public_key"] == new
    master.wait_for(lambda: len([m for a, m in master.commands
                                 if a == agent.agent_id and m.get("type") == "hello"]) > hellos, 20,
                    "a hello with the new key")
    poll_until(lambda: zmq.auth.load_certificate(str(agent.key_file))[0].decode() == new, 10, 0.1,
               "the agent's key file replaced by the next one")
    assert not agent.key_file.with_name(agent.key_file.name.replace(".key_secret", ".next.key_secret")).exists()
    check_all(master, agent.agent_id)
