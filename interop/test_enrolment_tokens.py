"""One-time enrolment tokens (docs/security.md#enrolment-tokens, docs/wire-protocol.md#enrol), against the REAL
binaries on loopback: `decnet-master keys token` makes a token, an agent started with it enrols itself when its key is
refused, and the master's limits (uses, expiry, revocation, ids in use, proofs, junk) hold. pyzmq peers holding the
token play the hostile parts; the token's key pair and the proof are made with libsodium through ctypes, exactly as
the docs describe them. Helpers come from trust_harness.py and the Harness of test_trust_boundaries.py."""
import base64
import ctypes
import ctypes.util
import hashlib
import json
import os
import stat
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


SODIUM = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
assert SODIUM.sodium_init() >= 0


def fingerprint(z85_public):
    return hashlib.sha256(zmq.utils.z85.decode(z85_public)).hexdigest()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token_bytes(token):
    prefix = "decnet-enrol-v1."
    assert token.startswith(prefix), token
    text = token[len(prefix):]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_keypair(token):
    """crypto_box_seed_keypair(SHA-256("decnet-enrol-v1" || token)): (public, secret) raw bytes."""
    seed = hashlib.sha256(b"decnet-enrol-v1" + token_bytes(token)).digest()
    public, secret = ctypes.create_string_buffer(32), ctypes.create_string_buffer(32)
    assert SODIUM.crypto_box_seed_keypair(public, secret, seed) == 0
    return public.raw, secret.raw


def proof(agent_secret, master_public, token_public, agent_id):
    """crypto_box_easy over "decnet-enrol-v1 proof" || token public key || agent id: (nonce, box)."""
    message = b"decnet-enrol-v1 proof" + token_public + agent_id.encode()
    nonce = os.urandom(24)
    box = ctypes.create_string_buffer(len(message) + 16)
    assert SODIUM.crypto_box_easy(box, message, ctypes.c_ulonglong(len(message)), nonce, master_public,
                                  agent_secret) == 0
    return nonce, box.raw


def keys(m, subcommand, *args):
    """`decnet-master keys SUBCOMMAND --dir D ARGS...`."""
    argv = [str(th.master_binary()), "keys", subcommand, "--dir", str(m.dir), *map(str, args)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def make_token(m, ttl="1h", uses=1):
    done = keys(m, "token", "--ttl", ttl, "--uses", uses, "--json")
    assert done.returncode == 0, f"keys token: {done.returncode} {done.stderr}"
    return json.loads(done.stdout)


def listed(m):
    done = keys(m, "list", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def token_entry(m, token_id):
    return next((e for e in listed(m) if e["state"] == "token" and e["id"] == token_id), None)


def agent_with_token(h, m, agent_id, token, *, key=None, directory=None):
    """A fresh agent (its key made by `run`) given the token through a file; `directory` keeps its state and log
    apart from another agent of the same id."""
    folder = h.dir / f"{agent_id}-keys"
    key = key or th.Key(folder / "agent.key", folder / "agent.key_secret", "")
    token_file = h.dir / f"{agent_id}.token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    env = dict(th.FAST_LINK, DECNET_ENROL_TOKEN_FILE=str(token_file))
    if directory is None:
        return h.agent(m, agent_id, key, env=env), key
    directory.mkdir(exist_ok=True)
    agent = th.start_agent(directory, m, agent_id, key, env=env)
    h.add(agent.stop)
    h.agents.append(agent)
    return agent, key


def assert_token_nowhere(c, h, m, token):
    """The token's text and its base64url part never reach the master's files or log."""
    secret_part = token.split(".", 1)[1]
    for path in m.dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            c.check(secret_part.encode() not in data, f"the token is in {path}")
    c.check(secret_part not in m.log.text(), "the token is in the master's log")


class TokenPeer:
    """A pyzmq DEALER (and optionally PUB) holding the token's derived key pair: a hostile token holder."""

    def __init__(self, m, token):
        self.context = zmq.Context()
        self.public, self.secret = token_keypair(token)
        self.master_public_z85, _ = th.load_keys(m.public_file)
        self.master_public = zmq.utils.z85.decode(self.master_public_z85)
        self.m = m

    def socket(self, kind, endpoint):
        s = self.context.socket(kind)
        s.linger = 0
        s.curve_publickey = zmq.utils.z85.encode(self.public)
        s.curve_secretkey = zmq.utils.z85.encode(self.secret)
        s.curve_serverkey = self.master_public_z85
        s.connect(endpoint)
        return s

    def dealer(self):
        return self.socket(zmq.DEALER, self.m.command_endpoint)

    def exchange(self, frames, timeout=5.0):
        """A new connection: sends each frame, returns every answer that arrives within `timeout`."""
        s = self.dealer()
        for frame in frames:
            s.send(frame)
        answers = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if s.poll(100):
                raw = s.recv()
                try:
                    answers.append(json.loads(raw))
                except ValueError:
                    answers.append(raw)
        s.close()
        return answers

    def enrol_frame(self, agent_id, public, secret, proof_secret=None):
        nonce, box = proof(proof_secret or secret, self.master_public, self.public, agent_id)
        return json.dumps({"proto": 1, "type": "enrol", "agent_id": agent_id,
                           "public_key": zmq.utils.z85.encode(public).decode(), "nonce": b64url(nonce),
                           "proof": b64url(box)}).encode()

    def close(self):
        self.context.destroy(linger=0)


def raw_keypair():
    public, secret = zmq.curve_keypair()
    return zmq.utils.z85.decode(public), zmq.utils.z85.decode(secret)


def test_a_fresh_agent_with_a_token_is_connected_without_a_manual_step(h):
    c = Checks()
    m = h.master()
    made = make_token(m, uses=3)
    token = made["token"]
    c.check(token.startswith("decnet-enrol-v1.") and len(token_bytes(token)) == 32, f"token form {token[:20]}")
    c.check(made["public_key"] == zmq.utils.z85.encode(token_keypair(token)[0]).decode(),
            "the master stores the key the docs' derivation gives")
    record = m.dir / "tokens" / f"{made['fingerprint']}.json"
    c.check(record.exists() and stat.S_IMODE(record.stat().st_mode) == 0o600, "tokens/<fingerprint>.json is 0600")
    started = time.monotonic()
    agent, key = agent_with_token(h, m, "tok-a", token)
    wait_fully_back(c, m, "tok-a", "enrolled by token")
    print(f"start to connected with a token: {time.monotonic() - started:.2f} s")
    public, _ = th.load_keys(key.secret)
    listed_key, _ = th.load_keys(m.dir / "agents" / "tok-a.key")
    c.check(listed_key == public, "agents/tok-a.key holds the agent's own key")
    entry = token_entry(m, made["id"])
    c.check(entry and entry["uses_left"] == 2 and entry["live"], f"one use spent: {entry}")
    counters = m.counters()
    c.check(dig(counters, "enrolment.token_enrolled") == 1, f"counted: {dig(counters, 'enrolment')}")
    c.check("enrolled with the token" in agent.log(), "the agent logged its enrolment")
    c.check(not list((m.dir / "pending").glob(f"{fingerprint(public.decode())}.json")), "no pending record left")
    # A restart of the enrolled agent does not spend another use.
    agent.stop()
    agent, _ = agent_with_token(h, m, "tok-a", token, key=key)
    wait_fully_back(c, m, "tok-a", "restarted")
    c.check(token_entry(m, made["id"])["uses_left"] == 2, "a restart spends nothing")
    table = keys(m, "list").stdout
    c.check(made["id"] in table and "2/3" in table, f"keys list shows the token:\n{table}")
    assert_token_nowhere(c, h, m, token)
    c.done()


def test_a_token_admits_its_uses_and_no_more(h):
    c = Checks()
    m = h.master()
    made = make_token(m, uses=2)
    for name in ("use-1", "use-2"):
        agent_with_token(h, m, name, made["token"])
    for name in ("use-1", "use-2"):
        wait_fully_back(c, m, name, f"{name} by token")
    c.check(token_entry(m, made["id"])["uses_left"] == 0, "used up")
    late, key = agent_with_token(h, m, "use-3", made["token"])
    public, _ = th.load_keys(poll_until(lambda: key.secret if key.secret.exists() else None, 10, 0.1, "key made"))
    fp = fingerprint(public.decode())
    poll_until(lambda: next((e for e in listed(m) if e["fingerprint"] == fp and e["state"] == "pending"), None), 20,
               0.3, "the third agent pending")
    m.wait_counter(lambda cs: (dig(cs, "enrolment.token_refused") or 0) >= 1, 20, "a used-up token refused at ZAP")
    time.sleep(2)
    c.check(not (m.dir / "agents" / "use-3.key").exists(), "no entry for the third agent")
    c.check(not (m.agent("use-3") or {}).get("connected"), "the third agent is not connected")
    c.check(dig(m.counters(), "enrolment.token_enrolled") == 2, "two enrolments")
    c.done()


def test_expired_and_revoked_tokens_are_refused(h):
    c = Checks()
    m = h.master()
    short = make_token(m, ttl="2s", uses=5)
    revoked = make_token(m, uses=5)
    done = keys(m, "token", "--revoke", revoked["id"][:10])
    c.check(done.returncode == 0 and revoked["id"] in done.stdout, f"revoke: {done.returncode} {done.stderr}")
    c.check(not (m.dir / "tokens" / f"{revoked['fingerprint']}.json").exists(), "the revoked record is gone")
    bad = keys(m, "token", "--revoke", "zz")
    c.check(bad.returncode == 2, f"a malformed id: {bad.returncode}")
    bad = keys(m, "token", "--ttl", "5x")
    c.check(bad.returncode == 2 and not bad.stdout, f"a bad ttl: {bad.returncode} {bad.stdout}")
    time.sleep(2.5)
    c.check(not token_entry(m, short["id"])["live"], "the short token is listed as not live")
    agent_with_token(h, m, "late", short["token"])
    agent_with_token(h, m, "gone", revoked["token"])
    m.wait_counter(lambda cs: (dig(cs, "enrolment.token_refused") or 0) >= 1, 20, "the expired token refused")
    time.sleep(3)
    c.check(not (m.dir / "agents" / "late.key").exists() and not (m.dir / "agents" / "gone.key").exists(),
            "neither agent enrolled")
    c.check(token_entry(m, short["id"])["uses_left"] == 5, "an expired token spends nothing")
    c.check((dig(m.counters(), "enrolment.token_enrolled") or 0) == 0, "no enrolment counted")
    c.done()


def test_a_token_never_replaces_another_agents_key(h):
    c = Checks()
    m = h.master()
    key = h.key("owner")
    m.enrol(key, "owner")
    owner = h.agent(m, "owner", key, env=th.FAST_LINK)
    wait_fully_back(c, m, "owner", "the owner")
    before = (m.dir / "agents" / "owner.key").read_bytes()
    made = make_token(m, uses=3)
    thief, _ = agent_with_token(h, m, "owner", made["token"], directory=h.dir / "thief")
    c.check(eventually(lambda: "id_taken" in thief.log(), 20), "the second agent was told id_taken")
    c.check((m.dir / "agents" / "owner.key").read_bytes() == before, "agents/owner.key unchanged")
    c.check(token_entry(m, made["id"])["uses_left"] == 3, "no use spent")
    c.check(m.state_ok("owner", 10), "the owner still answers")
    c.check((m.agent("owner") or {}).get("connected"), "the owner is still connected")
    c.done()


def test_a_proof_for_another_key_and_junk_from_a_token_holder_enrol_nothing(h):
    c = Checks()
    m = h.master()
    made = make_token(m, uses=3)
    peer = TokenPeer(m, made["token"])
    h.add(peer.close)
    victim_public, _ = raw_keypair()
    _, attacker_secret = raw_keypair()
    # A stolen public key, the proof made with another secret key.
    answers = peer.exchange([peer.enrol_frame("stolen", victim_public, None, proof_secret=attacker_secret)])
    c.check(answers and answers[0].get("type") == "enrol_refused" and answers[0].get("code") == "bad_proof",
            f"a proof for another key: {answers}")
    # Junk, an oversize frame, and many messages on one connection: one answer, then the connection is cut.
    answers = peer.exchange([b"not json"])
    c.check(len(answers) == 1 and answers[0].get("code") == "bad_request", f"junk: {answers}")
    answers = peer.exchange([b"x" * (1 << 20)])
    c.check(len(answers) == 1 and answers[0].get("code") == "too_large", f"oversize: {answers}")
    public, secret = raw_keypair()
    good = peer.enrol_frame("many", public, secret)
    answers = peer.exchange([b"{}"] + [good] * 200, timeout=3)
    c.check(len(answers) == 1 and answers[0].get("code") == "bad_request", f"many: one answer {answers[:3]}")
    counters = m.wait_counter(lambda cs: (dig(cs, "dropped.enrolment_only") or 0) >= 1, 10, "extra messages dropped")
    print(f"after the flood: dropped {dig(counters, 'dropped')}, cut {dig(counters, 'connections.cut')}")
    # A heartbeat from the token's key is never relayed.
    relayed = dig(m.counters(), "relayed.heartbeats") or 0
    pub = peer.socket(zmq.PUB, m.heartbeat_endpoint)
    for seq in range(1, 20):
        pub.send_multipart([b"hb.many", json.dumps(th.heartbeat("many", "b", seq)).encode()])
        time.sleep(0.05)
    pub.close()
    time.sleep(1)
    c.check((dig(m.counters(), "relayed.heartbeats") or 0) == relayed, "nothing relayed from the token's key")
    c.check(not any((m.dir / "agents").iterdir()), f"nothing enrolled: {list((m.dir / 'agents').iterdir())}")
    c.check(token_entry(m, made["id"])["uses_left"] == 3, "no use spent")
    c.check(m.alive(), "the master keeps serving")
    # A well-formed enrol on a fresh connection still works: a pyzmq agent of its own.
    answers = peer.exchange([good])
    c.check(answers and answers[0].get("type") == "enrolled" and answers[0].get("agent_id") == "many",
            f"a good enrol: {answers}")
    again = peer.exchange([peer.enrol_frame("many", public, secret)])
    c.check(again and again[0].get("type") == "enrolled", f"a retry is answered enrolled: {again}")
    c.check(token_entry(m, made["id"])["uses_left"] == 2, "the retry spent nothing")
    assert_token_nowhere(c, h, m, made["token"])
    c.done()
