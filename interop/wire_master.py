"""A master for wire protocol v1, written from the wire-protocol specification alone (schemas/README.md indexes its messages), on pyzmq.

It is what DECNET's Python master would have to do to drive our agent: a ROUTER for commands and a SUB for
heartbeats, both CURVE servers in ZAP domain `decnet`, checked by pyzmq's ThreadAuthenticator over a folder of
public certificates made by `zmq.auth.create_certificates`. The authenticator sets each message's User-Id to the
client's Z85 public key, so the master maps keys to agent ids itself (the allow-list entry names the agent). Agents
set no routing id: the ROUTER gives each connection its own, and the master sends each agent's commands over the
connection its latest hello came on (docs/wire-protocol.md#identity). Commands whose `agent_id` names another agent,
and heartbeats whose topic does, are dropped.

Used by the interop tests (test_agent_interop.py) and by the wire benchmark (bench/wire_bench.py).
"""
import hashlib
import itertools
import json
import os
import pathlib
import shutil
import time

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator
from zmq.utils.monitor import recv_monitor_message

ZAP_DOMAIN = "decnet"
MAX_MESSAGE = 16 * 1024 * 1024

# Keys DECNET's canonical hash leaves out, at every depth.
VOLATILE_KEYS = {"created_at", "status_changed_at", "updated_at", "last_seen", "status", "version", "last_error",
                 "x", "y", "w", "h"}


def strip_volatile(value):
    """The hydrated topology without its volatile keys, at every depth."""
    if isinstance(value, dict):
        return {k: strip_volatile(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [strip_volatile(v) for v in value]
    return value


def canonical_hash(hydrated):
    """The version hash exactly as DECNET's master computes it."""
    text = json.dumps(strip_volatile(hydrated), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def make_certificate(directory, name):
    """A pyzmq-made key pair (`NAME.key`, `NAME.key_secret`, no metadata); the secret file tightened to 0600."""
    os.makedirs(directory, exist_ok=True)
    public_file, secret_file = zmq.auth.create_certificates(str(directory), name)
    os.chmod(secret_file, 0o600)
    return pathlib.Path(public_file), pathlib.Path(secret_file)


def public_key_of(path):
    public, _ = zmq.auth.load_certificate(str(path))
    return public.decode("ascii") if isinstance(public, bytes) else public


class WireMaster:
    """ROUTER (commands) and SUB (heartbeats) bound on free loopback ports, behind ThreadAuthenticator.

    Everything received is kept: `commands` holds `(agent_id, envelope)` of the command socket, `heartbeats`
    `(topic, envelope)`, `dropped` what failed the identity checks. Call `pump` (or the `wait_*` helpers) to read.
    """

    def __init__(self, directory):
        self.directory = pathlib.Path(directory)
        self.allow_dir = self.directory / "agents"
        self.allow_dir.mkdir(parents=True, exist_ok=True)
        self.public_file, self.secret_file = make_certificate(self.directory, "master")
        self.agents_by_key = {}
        self.commands = []
        self.heartbeats = []
        self.dropped = []
        self.routes = {}  # agent id -> routing id of its latest hello
        self._ids = itertools.count(1)
        self.context = zmq.Context()
        # The ZAP handler runs before any CURVE server binds: without it libzmq would accept every client key.
        self.auth = ThreadAuthenticator(self.context)
        self.auth.start()
        self.auth.configure_curve(domain=ZAP_DOMAIN, location=str(self.allow_dir))
        public, secret = zmq.auth.load_certificate(str(self.secret_file))
        self.router = self._server(zmq.ROUTER, public, secret)
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.sub = self._server(zmq.SUB, public, secret)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        self.command_endpoint = self.router.getsockopt_string(zmq.LAST_ENDPOINT)
        self.heartbeat_endpoint = self.sub.getsockopt_string(zmq.LAST_ENDPOINT)
        self.poller = zmq.Poller()
        self.poller.register(self.router, zmq.POLLIN)
        self.poller.register(self.sub, zmq.POLLIN)
        # Handshake outcomes of the command socket (libzmq monitor events), to tell "refused" from "never tried".
        self.monitor = self.router.get_monitor_socket(
            zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
            | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        self.poller.register(self.monitor, zmq.POLLIN)
        self.handshakes = []

    def _server(self, kind, public, secret):
        socket = self.context.socket(kind)
        socket.linger = 0
        socket.curve_server = True
        socket.curve_publickey = public
        socket.curve_secretkey = secret
        socket.zap_domain = ZAP_DOMAIN.encode()
        socket.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE)
        socket.bind("tcp://127.0.0.1:*")
        return socket

    # -- allow-list

    def enrol(self, agent_id, public_file):
        """Puts the agent's public certificate in the allow-list folder and re-reads it."""
        shutil.copy(public_file, self.allow_dir / f"{agent_id}.key")
        self.agents_by_key[public_key_of(public_file)] = agent_id
        self.auth.configure_curve(domain=ZAP_DOMAIN, location=str(self.allow_dir))

    # -- receiving

    def pump(self, timeout=0.0):
        """Reads everything that arrives within `timeout` seconds (at least one poll). Returns how many."""
        deadline = time.monotonic() + timeout
        count = 0
        while True:
            remaining = max(0, deadline - time.monotonic())
            events = dict(self.poller.poll(int(remaining * 1000)))
            if not events:
                return count
            if self.router in events:
                while self._receive_command():
                    count += 1
            if self.sub in events:
                while self._receive_heartbeat():
                    count += 1
            if self.monitor in events:
                while self.monitor.poll(0):
                    event = recv_monitor_message(self.monitor)
                    self.handshakes.append(zmq.Event(event["event"]).name)
            if time.monotonic() >= deadline:
                return count

    def _receive_command(self):
        try:
            frames = self.router.recv_multipart(zmq.NOBLOCK, copy=False)
        except zmq.Again:
            return False
        if len(frames) != 2:
            self.dropped.append(("bad_frames", [f.bytes for f in frames]))
            return True
        routing_id, body = frames[0].bytes, frames[1]
        agent_id = self.agents_by_key.get(body.get("User-Id"))
        message = json.loads(body.bytes)
        if agent_id is None or message.get("agent_id", agent_id) != agent_id:
            self.dropped.append(("agent_id_mismatch", routing_id, body.get("User-Id")))
            return True
        if message.get("type") == "hello":
            self.routes[agent_id] = routing_id
        self.commands.append((agent_id, message))
        return True

    def _receive_heartbeat(self):
        try:
            frames = self.sub.recv_multipart(zmq.NOBLOCK, copy=False)
        except zmq.Again:
            return False
        if len(frames) != 2:
            self.dropped.append(("bad_frames", [f.bytes for f in frames]))
            return True
        topic = frames[0].bytes.decode("utf-8", "replace")
        agent_id = self.agents_by_key.get(frames[1].get("User-Id"))
        if agent_id is None or topic not in (f"hb.{agent_id}", f"ev.{agent_id}"):
            self.dropped.append(("topic_mismatch", topic, frames[1].get("User-Id")))
            return True
        self.heartbeats.append((topic, json.loads(frames[1].bytes)))
        return True

    def wait_for(self, predicate, timeout=10.0, what="a message"):
        """Pumps until `predicate()` returns something truthy; returns it, or raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            found = predicate()
            if found:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {what} within {timeout} s")
            self.pump(min(remaining, 0.05))

    def answers(self, request_id):
        """Every command-socket message answering `request_id`, in arrival order."""
        return [m for _, m in self.commands if m.get("id") == request_id]

    def result(self, request_id, timeout=30.0):
        """Waits for the `result` of `request_id`."""
        return self.wait_for(
            lambda: next((m for m in self.answers(request_id) if m.get("type") == "result"), None),
            timeout, f"result for {request_id}")

    def hello(self, agent_id, timeout=15.0):
        return self.wait_for(
            lambda: next((m for a, m in self.commands if a == agent_id and m.get("type") == "hello"), None),
            timeout, f"hello from {agent_id}")

    # -- sending

    def new_id(self, prefix="req"):
        return f"{prefix}-{os.getpid()}-{next(self._ids)}"

    def send_raw(self, agent_id, frame):
        """Sends one frame of bytes, as is, over the agent's latest hello's connection."""
        self.router.send_multipart([self.routes.get(agent_id, agent_id.encode()), frame])

    def send(self, agent_id, envelope):
        """Sends over the connection of the agent's latest hello."""
        self.router.send_multipart([self.routes.get(agent_id, agent_id.encode()), json.dumps(envelope).encode()])

    def request(self, agent_id, kind, request_id=None, **members):
        """Sends a request of type `kind` and returns its id."""
        request_id = request_id or self.new_id(kind)
        self.send(agent_id, {"proto": 1, "type": kind, "id": request_id, **members})
        return request_id

    def apply(self, agent_id, hydrated, request_id=None, version_hash=None, **members):
        return self.request(agent_id, "apply", request_id, hydrated=hydrated,
                            version_hash=version_hash or canonical_hash(hydrated), **members)

    def close(self):
        self.router.disable_monitor()
        self.monitor.close(0)
        self.router.close(0)
        self.sub.close(0)
        self.auth.stop()
        self.context.term()
