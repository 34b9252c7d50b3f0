"""Master key rollover with two keys (docs/security.md#master-key-rollover, docs/operations.md#rotate), against the
REAL binaries: an agent trusting a folder of master keys follows `decnet-master keygen --rotate`, `--promote` and a
master restart onto the new key without being restarted itself; an agent trusting only the old key is shut out."""
import shutil
import subprocess
import time

import pytest

import agent_process
import trust_harness as th
from test_trust_boundaries import Checks, Harness, wait_fully_back
from trust_harness import eventually


@pytest.fixture
def h(agent_binary, request):
    harness = Harness(agent_binary)
    yield harness
    report = getattr(request.node, "rep_call", None)
    harness.close(report is not None and report.failed)


def agent_with_master_keys(h, m, agent_id, key, master_keys):
    """`decnet-agent run --master-key MASTER_KEYS` (a file or a folder) with the fast re-dial of the trust tests."""
    with th.patched_environment(th.FAST_LINK):
        agent = agent_process.AgentProcess(
            th.agent_binary(), agent_id=agent_id, master=m, key_file=key.secret,
            state_dir=h.dir / f"{agent_id}-state", log_path=h.dir / f"{agent_id}.log",
            master_key_file=master_keys, heartbeat_interval="1")
    h.closers.append(agent.stop)
    h.agents.append(agent)
    return agent


def keygen(m, flag):
    argv = [str(th.master_binary()), "keygen", "--dir", str(m.dir), flag]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def test_master_key_rollover_with_two_trusted_keys(h):
    c = Checks()
    m = h.master()
    old_public = (m.dir / "master.key").read_text()
    trusted = h.dir / "trusted-masters"
    trusted.mkdir()
    shutil.copy(m.dir / "master.key", trusted / "a-current.key")
    key = h.key("roller")
    m.enrol(key, "roller")
    stuck_key = h.key("stuck")
    m.enrol(stuck_key, "stuck")
    roller = agent_with_master_keys(h, m, "roller", key, trusted)
    stuck = agent_with_master_keys(h, m, "stuck", stuck_key, h.dir / "old-master.key")
    shutil.copy(m.dir / "master.key", h.dir / "old-master.key")
    wait_fully_back(c, m, "roller", "before the rollover")
    wait_fully_back(c, m, "stuck", "before the rollover (old key only)")

    # 1. The next key, beside the current one; a second --rotate is refused.
    made = keygen(m, "--rotate")
    c.check(made.returncode == 0 and (m.dir / "master.next.key_secret").exists(), f"--rotate: {made.stderr}")
    c.check(keygen(m, "--rotate").returncode == 1, "a second --rotate is refused")
    # 2. Its public half goes to the agent's trusted folder (no agent restart).
    shutil.copy(m.dir / "master.next.key", trusted / "b-next.key")
    # 3. Promote and restart the master.
    promoted = keygen(m, "--promote")
    c.check(promoted.returncode == 0, f"--promote: {promoted.stderr}")
    c.check((m.dir / "master.previous.key").read_text() == old_public, "the old key is kept as master.previous")
    c.check((m.dir / "master.key").read_text() != old_public, "master.key is the new key")
    c.check(keygen(m, "--promote").returncode == 1, "promote without a next key is refused")
    roller_pid = roller.pid
    started = time.monotonic()
    m.restart()
    wait_fully_back(c, m, "roller", "after the master moved to its next key", timeout=30)
    print(f"restart to roller connected on the new key: {time.monotonic() - started:.1f} s")
    c.check(roller.alive() and roller.pid == roller_pid, "the agent was not restarted")
    c.check("next trusted key" in roller.log(), "the agent logged moving on to its next trusted key")
    # The agent that trusts only the old key never gets through.
    time.sleep(3)
    stuck_entry = m.agent("stuck")
    c.check(not (stuck_entry or {}).get("connected"), f"an agent pinning only the old key is shut out: {stuck_entry}")
    # 4. The old key leaves the agent's folder; the agent stays connected, and after another master restart it
    # still connects (only the new key is left to try).
    (trusted / "a-current.key").unlink()
    m.restart()
    wait_fully_back(c, m, "roller", "after the old key left the agent's folder", timeout=30)
    c.done()


def test_a_master_key_folder_without_keys_is_refused_at_start(h, tmp_path):
    m = h.master()
    empty = tmp_path / "no-keys"
    empty.mkdir()
    key = h.key("lonely")
    done = subprocess.run([str(th.agent_binary()), "run", "--agent-id", "lonely", "--master-endpoint",
                           m.command_endpoint, "--heartbeat-endpoint", m.heartbeat_endpoint, "--master-key",
                           str(empty), "--key", str(key.secret), "--state-dir", str(tmp_path / "state"),
                           "--check-config"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "no .key certificate" in done.stderr, (done.returncode, done.stderr)
