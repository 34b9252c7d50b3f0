"""Enrolment with operator approval (docs/security.md#enrolment), against the REAL binaries on loopback: an unknown
agent key is refused at its handshake and recorded as pending; `decnet-master keys accept|reject|delete` decide on
it while the master serves; an accepted agent connects within its re-dial back-off without a restart of either side.
Helpers come from trust_harness.py (and the Harness of test_trust_boundaries.py)."""
import hashlib
import json
import os
import pathlib
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


def fingerprint(z85_public):
    """docs/security.md#fingerprint: SHA-256 of the 32 key bytes, 64 lowercase hex digits."""
    return hashlib.sha256(zmq.utils.z85.decode(z85_public)).hexdigest()


def keys(m, subcommand, *args, timeout=30.0):
    """`decnet-master keys SUBCOMMAND --dir D ARGS...`."""
    argv = [str(th.master_binary()), "keys", subcommand, "--dir", str(m.dir), *map(str, args)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def listed(m):
    done = keys(m, "list", "--json")
    assert done.returncode == 0, f"keys list --json: {done.returncode} {done.stderr}"
    return json.loads(done.stdout)


def entry(m, fp):
    return next((e for e in listed(m) if e["fingerprint"] == fp), None)


def pending_dir(m):
    return m.dir / "pending"


def agent_fingerprint_from_log(agent, timeout=15):
    import re

    def find():
        found = re.findall(r"fingerprint=([0-9a-f]{64})", agent.log())
        return found[0] if found else None
    return poll_until(find, timeout, 0.1, f"fingerprint logged by {agent.agent_id}")


def test_a_fresh_agent_makes_its_key_is_pending_and_connects_once_accepted(h):
    """`run` makes a key pair on first start and logs its fingerprint; the master lists it as pending (fingerprint,
    address, times, attempts); `keys accept` admits it within the re-dial back-off, no restart anywhere."""
    c = Checks()
    m = h.master()
    folder = h.dir / "fresh-keys"
    key = th.Key(folder / "agent.key", folder / "agent.key_secret", "")
    agent = h.agent(m, "fresh", key, env=th.FAST_LINK)
    fp = agent_fingerprint_from_log(agent)
    c.check(key.secret.exists() and (key.secret.stat().st_mode & 0o077) == 0,
            "run made agent.key_secret without group/other bits")
    public, _ = th.load_keys(key.secret)
    c.check(fp == fingerprint(public.decode()), "the logged fingerprint is SHA-256 of the public key")
    pending = poll_until(lambda: entry(m, fp), 15, 0.3, "the agent's key listed as pending")
    c.check(pending["state"] == "pending", f"state {pending['state']}")
    c.check(pending["address"] == "127.0.0.1", f"address {pending['address']}")
    c.check(pending["first_seen_ms"] <= pending["last_seen_ms"], "first seen <= last seen")
    c.check(pending["attempts"] >= 1, "attempts counted")
    c.check(pending["public_key"] == public.decode(), "the public key is listed")
    table = keys(m, "list").stdout
    c.check(fp[:16] in table and "pending" in table, f"the table shows the short fingerprint:\n{table}")
    c.check(m.log.count(fp + r"[^\n]*unknown agent key is pending") == 1, "the master logged the pending key once")
    c.check(m.agent("fresh") is None or not m.agent("fresh").get("connected"), "not connected before accept")
    # A bad accept changes nothing.
    bad = keys(m, "accept", fp[:12], "--id", "../evil")
    c.check(bad.returncode == 2 and not list((m.dir / "agents").iterdir()), f"bad id refused: {bad.returncode}")
    short = keys(m, "accept", "abc", "--id", "fresh")
    c.check(short.returncode == 1 and "no key matches" in short.stderr, f"short selector: {short.stderr}")
    started = time.monotonic()
    done = keys(m, "accept", fp[:12], "--id", "fresh")
    c.check(done.returncode == 0, f"keys accept: {done.returncode} {done.stderr}")
    wait_fully_back(c, m, "fresh", "after keys accept")
    print(f"accept to connected: {time.monotonic() - started:.2f} s")
    accepted = entry(m, fp)
    c.check(accepted and accepted["state"] == "accepted" and accepted["id"] == "fresh", f"listed {accepted}")
    c.check(not (pending_dir(m) / f"{fp}.json").exists(), "the pending record is gone")
    again = keys(m, "accept", fp[:12], "--id", "other")
    c.check(again.returncode == 1 and "accepted" in again.stderr, f"accepting twice refused: {again.stderr}")
    c.done()


def test_reject_refuses_quietly_and_delete_brings_the_key_back_as_pending(h):
    c = Checks()
    m = h.master()
    key = h.key("moody")
    fp = fingerprint(key.z85)
    agent = h.agent(m, "moody", key, env=th.FAST_LINK)
    poll_until(lambda: entry(m, fp), 15, 0.3, "pending")
    done = keys(m, "reject", fp[:10])
    c.check(done.returncode == 0, f"keys reject: {done.stderr}")
    c.check(entry(m, fp)["state"] == "rejected", "listed as rejected")
    before = dig(m.counters(), "enrolment.rejected_refused") or 0
    m.wait_counter(lambda cs: (dig(cs, "enrolment.rejected_refused") or 0) >= before + 3, 20,
                   "rejected handshakes counted")
    lines = m.log.count(fp)
    time.sleep(3)
    c.check(m.log.count(fp) == lines, "a rejected key's refusals are not logged")
    c.check(not (pending_dir(m) / f"{fp}.json").exists(), "no pending record for a rejected key")
    # Accept the rejected key: it comes in without a restart.
    done = keys(m, "accept", fp[:10], "--id", "moody")
    c.check(done.returncode == 0, f"accept a rejected key: {done.stderr}")
    wait_fully_back(c, m, "moody", "after accepting the rejected key")
    # Reject an accepted agent by id: revoked at once.
    done = keys(m, "reject", "moody")
    c.check(done.returncode == 0, f"reject by id: {done.stderr}")
    c.check(eventually(lambda: "revoked" in agent.log(), 10), "the connected agent was revoked")
    # Delete: forgotten; the agent still dials, so it comes back as pending.
    done = keys(m, "delete", fp[:10])
    c.check(done.returncode == 0, f"keys delete: {done.stderr}")
    back = eventually(lambda: (entry(m, fp) or {}).get("state") == "pending", 30, 0.5)
    c.check(back, f"a deleted key still dialling is pending again: {entry(m, fp)}")
    missing = keys(m, "delete", "nobody")
    c.check(missing.returncode == 1, "deleting an unknown id fails")
    c.done()


def test_a_flood_of_unknown_keys_stays_capped_in_count_disk_and_log(h):
    c = Checks()
    m = h.master()
    lines_before = len(m.log.lines())
    flood = th.UnknownKeyFlood(m, 600, batch=150, hold_s=0.5)
    time.sleep(1)
    files = list(pending_dir(m).glob("*.json"))
    size = sum(f.stat().st_size for f in files)
    counters = m.counters()
    print(f"flood of {flood.opened} unknown keys: {len(files)} pending files, {size} bytes, "
          f"enrolment {dig(counters, 'enrolment')}")
    c.check(flood.opened >= 500, f"the flood opened {flood.opened} sockets")
    c.check(len(files) <= 30, f"pending records stay within the per-minute limit: {len(files)}")
    c.check(size <= 30 * 512, f"pending records take {size} bytes")
    c.check((dig(counters, "enrolment.pending_rate_limited") or 0) >= 100,
            f"the rest were counted as rate-limited: {dig(counters, 'enrolment')}")
    new_lines = m.log.lines()[lines_before:]
    pending_lines = [line for line in new_lines if "pending" in line]
    c.check(len(pending_lines) <= 12, f"{len(pending_lines)} log lines about pending keys")
    c.check(m.alive(), "master alive")
    listed_now = listed(m)
    c.check(len([e for e in listed_now if e["state"] == "pending"]) == len(files), "keys list shows each record")
    c.done()


def test_pending_records_are_capped_and_the_least_recent_evicted(h, tmp_path):
    """With the window's limit out of the way (a restart reads the folder), the cap holds on disk: records written
    by an earlier run beyond 256 are removed at start, least recently seen first."""
    c = Checks()
    m = h.master()
    m.stop()
    folder = pending_dir(m)
    folder.mkdir(exist_ok=True)
    now = int(time.time() * 1000)
    made = []
    for index in range(300):
        public, _ = zmq.curve_keypair()
        fp = fingerprint(public.decode())
        record = {"public_key": public.decode(), "fingerprint": fp, "address": "10.0.0.1",
                  "first_seen_ms": now - 1000, "last_seen_ms": now - 300 + index, "attempts": 1}
        (folder / f"{fp}.json").write_text(json.dumps(record))
        made.append(fp)
    (folder / "garbage.json").write_text("{not json")
    m.start()
    kept = {p.stem for p in folder.glob("*.json")} - {"garbage"}
    c.check(len(kept) == 256, f"{len(kept)} records kept")
    c.check(set(made[44:]) == kept, "the 44 least recently seen were evicted")
    c.check(len([e for e in listed(m) if e["state"] == "pending"]) == 256, "keys list skips the garbage file")
    c.done()
