"""Helpers of the trust-boundary tests (test_trust_boundaries.py): they attack the REAL binaries, `decnet-master
serve` and `decnet-agent run`, over CURVE on loopback.

* `MasterProcess` runs `decnet-master serve` in a directory of its own (keys made with `decnet-master keygen`),
  bound to 127.0.0.1 on free ports that stay the same across restarts, optionally under an RLIMIT_NOFILE.
* `start_agent` runs the real agent (agent_process.AgentProcess) with optional `DECNET_*` timer overrides.
* `RogueAgent` is a pyzmq client holding an agent key: a DEALER on the command port (any routing id it likes) and a
  PUB on the heartbeat port, with socket monitors to tell "handshake refused" from "not tried yet".
* `TcpRelay` sits between an agent and the master and can blackhole every current connection (no FIN, no RST: a NAT
  rebinding) while new connections pass.
* `RawFlood` holds many idle plain TCP connections; `RawControl` speaks the control channel (ipc) directly.
* `vm_status`, `LogFile`, `poll_until` and small JSON helpers.

Every wait is bounded in time; every process, socket and thread is closed by `close()`/`stop()`.
"""
import contextlib
import json
import os
import pathlib
import re
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid

import zmq
import zmq.auth
from zmq.utils.monitor import recv_monitor_message

import agent_process

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN_DIR = pathlib.Path(os.environ.get("DECNET_BIN_DIR", ROOT / ".build" / "debug"))
LOOPBACK = "127.0.0.1"
REQUEST_TYPES = {"apply", "teardown", "state", "ping"}


if not os.environ.get("DECNET_AGENT_BIN") and (BIN_DIR / "decnet-agent").exists():
    # conftest's `agent_binary` fixture would otherwise ask `swift build --show-bin-path`; use the prebuilt one.
    os.environ["DECNET_AGENT_BIN"] = str(BIN_DIR / "decnet-agent")


def master_binary():
    return pathlib.Path(os.environ.get("DECNET_MASTER_BIN", BIN_DIR / "decnet-master"))


def agent_binary():
    """The agent binary: $DECNET_AGENT_BIN, else the prebuilt one next to decnet-master (never builds)."""
    if os.environ.get("DECNET_AGENT_BIN"):
        return pathlib.Path(os.environ["DECNET_AGENT_BIN"])
    path = BIN_DIR / "decnet-agent"
    return path if path.exists() else agent_process.agent_binary()


# -- waiting


def poll_until(predicate, timeout, interval=0.1, what="condition"):
    """Calls `predicate()` until it returns something truthy (returned) or `timeout` seconds pass (TimeoutError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(interval)


def eventually(predicate, timeout, interval=0.1):
    """Like `poll_until` but returns the last (falsy) value instead of raising."""
    try:
        return poll_until(predicate, timeout, interval)
    except TimeoutError:
        return predicate()


# -- ports


def free_ports(count):
    """`count` distinct free TCP ports on 127.0.0.1 (held together while picked, so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind((LOOPBACK, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


# -- JSON helpers


def dig(value, path, default=None):
    """`dig(d, "a.b.c")`: nested lookup that returns `default` when any step is missing."""
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


def dropped_total(counters):
    """counters.dropped_total, else the sum of the numbers under counters.dropped."""
    if isinstance(counters.get("dropped_total"), int):
        return counters["dropped_total"]
    return sum(v for v in (counters.get("dropped") or {}).values() if isinstance(v, int))


def numbers_matching(value, pattern, prefix=""):
    """{path: number} of every integer leaf of `value` whose dotted path matches the regex `pattern`."""
    found = {}
    if isinstance(value, dict):
        for key, item in value.items():
            found.update(numbers_matching(item, pattern, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, int) and not isinstance(value, bool) and re.search(pattern, prefix, re.I):
        found[prefix] = value
    return found


def empty_state():
    """A schema-valid state object with nothing applied."""
    return {"topology_id": None, "applied_version_hash": None, "applied_at": None, "last_error": None,
            "attempt": None, "observed": {"bridges": [], "containers": []},
            "drift": {"missing_bridges": [], "missing_containers": [], "stopped_containers": [],
                      "unexpected_containers": []}}


def hello(agent_id, boot_id=None, agent_version="0.1.0"):
    """A schema-valid hello (schemas/hello.schema.json)."""
    return {"proto": 1, "type": "hello", "agent_id": agent_id, "agent_version": agent_version,
            "boot_id": boot_id or str(uuid.uuid4()), "protocols": [1],
            "capabilities": ["apply", "teardown", "state", "ping"], "state": empty_state()}


def heartbeat(agent_id, boot_id, seq, interval_ms=1000, sent_at=None, agent_version="0.1.0"):
    """A schema-valid heartbeat (schemas/heartbeat.schema.json) unless the numbers are the attack."""
    return {"proto": 1, "type": "heartbeat", "agent_id": agent_id, "boot_id": boot_id, "seq": seq,
            "sent_at": int(time.time() * 1000) if sent_at is None else sent_at, "interval_ms": interval_ms,
            "agent_version": agent_version, "running": None, "state": empty_state()}


# -- keys


class Key:
    """A key pair made by `decnet-master keygen`: `public` (NAME.key), `secret` (NAME.key_secret), `z85`."""

    def __init__(self, public, secret, z85):
        self.public, self.secret, self.z85 = pathlib.Path(public), pathlib.Path(secret), z85

    def __repr__(self):
        return f"Key({self.public.name}, {self.z85})"


def keygen(directory, name, role="agent", agent_id=None):
    args = [str(master_binary()), "keygen", "--dir", str(directory), "--name", name, "--role", role]
    if agent_id is not None:
        args += ["--agent-id", agent_id]
    done = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"keygen {name}: {done.returncode} {done.stderr}"
    return Key(pathlib.Path(directory) / f"{name}.key", pathlib.Path(directory) / f"{name}.key_secret",
               done.stdout.strip())


def load_keys(secret_file):
    public, secret = zmq.auth.load_certificate(str(secret_file))
    return public, secret


# -- /proc


def vm_status(pid):
    """VmRSS, VmHWM (KiB) and FDSize-like numbers from /proc/PID/status; {} when the process is gone."""
    values = {}
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM", "VmSize", "Threads"):
                values[name] = int(rest.split()[0])
    except (OSError, ValueError):
        return {}
    return values


def open_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


class MemoryWatch:
    """Samples a process's VmRSS/VmHWM every 50 ms in a thread; kills it when VmRSS passes `kill_above_kib`
    (protects the machine: the test then fails on the peak it recorded)."""

    def __init__(self, pid, kill_above_kib=None):
        self.pid = pid
        self.kill_above_kib = kill_above_kib
        self.peak_rss = 0
        self.hwm = 0
        self.killed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            status = vm_status(self.pid)
            if not status:
                return
            self.peak_rss = max(self.peak_rss, status.get("VmRSS", 0))
            self.hwm = max(self.hwm, status.get("VmHWM", 0))
            if self.kill_above_kib and status.get("VmRSS", 0) > self.kill_above_kib and not self.killed:
                self.killed = True
                with contextlib.suppress(OSError):
                    os.kill(self.pid, signal.SIGKILL)
            self._stop.wait(0.05)

    def stop(self):
        self._stop.set()
        self._thread.join(5)


# -- logs


class LogFile:
    """A log file written by a child process, read as bytes or text, with bounded waits for patterns."""

    def __init__(self, path):
        self.path = pathlib.Path(path)

    def bytes(self):
        try:
            return self.path.read_bytes()
        except OSError:
            return b""

    def text(self):
        return self.bytes().decode("utf-8", "replace")

    def lines(self):
        return self.text().splitlines()

    def count(self, pattern):
        return sum(1 for line in self.lines() if re.search(pattern, line, re.I))

    def has(self, pattern):
        return re.search(pattern, self.text(), re.I) is not None

    def wait_for(self, pattern, timeout):
        """True once `pattern` (regex, case-insensitive) appears, False after `timeout` seconds."""
        return bool(eventually(lambda: self.has(pattern), timeout, 0.1))

    def tail(self, size=3000):
        return self.text()[-size:]


# -- the master


class TickWitness:
    """A service manager's notify socket for a master started with `ticks=True`: the master sends `WATCHDOG=1` from
    its timer loop (docs/install.md#the-units), so every datagram counted is a tick that ran. With `WATCHDOG_USEC`
    at 200 ms the master kicks on every tick (one per 200 ms)."""

    WATCHDOG_USEC = "200000"

    def __init__(self):
        self.path = f"/tmp/decnet-ticks-{uuid.uuid4().hex[:12]}.sock"
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(self.path)
        self.datagrams = []

    @property
    def environment(self):
        return {"NOTIFY_SOCKET": self.path, "WATCHDOG_USEC": self.WATCHDOG_USEC}

    def _drain(self, timeout):
        ready = selectors.DefaultSelector()
        ready.register(self.socket, selectors.EVENT_READ)
        try:
            if ready.select(timeout):
                with contextlib.suppress(BlockingIOError):
                    while True:
                        self.datagrams.append(self.socket.recv(4096, socket.MSG_DONTWAIT).decode(errors="replace"))
        finally:
            ready.close()

    def kicks(self):
        self._drain(0)
        return sum(1 for d in self.datagrams if "WATCHDOG=1" in d.split("\n"))

    def wait_more(self, count, timeout):
        """Waits until `count` more ticks than now were reported; returns whether they were."""
        target = self.kicks() + count
        deadline = time.monotonic() + timeout
        while self.kicks() < target:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._drain(min(remaining, 0.1))
        return True

    def close(self):
        self.socket.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)


class MasterProcess:
    """`decnet-master serve` in `directory`/master, bound to 127.0.0.1 on free ports fixed at construction.

    `ticks=True` gives it a notify socket (`self.ticks`, a ``TickWitness``) that counts the timer loop's ticks.

    `nofile` = (soft, hard) sets RLIMIT_NOFILE in the child before exec. Keys: `master.key_secret` made with keygen,
    `agents/` and `monitors/` allow-lists. `stop()`/`kill()` are safe to call twice; use `close()` in teardown.
    """

    def __init__(self, directory, *, nofile=None, extra=(), log_format="text", ticks=False):
        self.dir = pathlib.Path(directory) / "master"
        self.dir.mkdir(parents=True, exist_ok=True)
        if not (self.dir / "master.key_secret").exists():
            keygen(self.dir, "master", role="master")
        (self.dir / "agents").mkdir(exist_ok=True)
        (self.dir / "monitors").mkdir(exist_ok=True)
        self.command_port, self.heartbeat_port, self.monitor_port = free_ports(3)
        self.nofile = nofile
        self.extra = list(extra)
        self.log_format = log_format
        self.log_path = pathlib.Path(directory) / "master.log"
        self.log = LogFile(self.log_path)
        self.process = None
        self.starts = 0
        self.ticks = TickWitness() if ticks else None

    # endpoints, as AgentProcess wants them
    @property
    def command_endpoint(self):
        return f"tcp://{LOOPBACK}:{self.command_port}"

    @property
    def heartbeat_endpoint(self):
        return f"tcp://{LOOPBACK}:{self.heartbeat_port}"

    @property
    def monitor_endpoint(self):
        return f"tcp://{LOOPBACK}:{self.monitor_port}"

    @property
    def public_file(self):
        return self.dir / "master.key"

    @property
    def control_endpoint(self):
        return f"ipc://{self.dir}/control.ipc"

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def exit_status(self):
        return None if self.process is None else self.process.poll()

    def start(self, ready_timeout=20.0):
        assert not self.alive(), "master already running"
        args = [str(master_binary()), "serve", "--dir", str(self.dir), "--bind-host", LOOPBACK,
                "--command-port", str(self.command_port), "--heartbeat-port", str(self.heartbeat_port),
                "--monitor-port", str(self.monitor_port), "--log-format", self.log_format, *self.extra]
        nofile = self.nofile

        def limits():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, nofile)

        log = open(self.log_path, "ab")
        self.starts += 1
        log.write(f"=== harness: start #{self.starts} ===\n".encode())
        log.flush()
        environment = {**os.environ, **self.ticks.environment} if self.ticks else None
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                        preexec_fn=limits if nofile else None, env=environment)
        log.close()
        poll_until(lambda: self._ready_or_dead(), ready_timeout, 0.1, "master ready (agents --json answers)")
        assert self.alive(), f"master exited at start: {self.exit_status()}\n{self.log.tail()}"
        return self

    def _ready_or_dead(self):
        if not self.alive():
            return True
        if not (self.dir / "control.ipc").exists():
            return False
        return self.cli("agents", "--json", timeout=5).returncode == 0

    def stop(self, timeout=10.0):
        """SIGTERM then wait; SIGKILL when it does not stop in time. Returns the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def restart(self):
        self.stop()
        return self.start()

    def close(self):
        self.stop()
        if self.ticks:
            self.ticks.close()

    # allow-list
    def enrol(self, key, name):
        """Copies `key.public` into agents/NAME.key."""
        shutil.copy(key.public, self.dir / "agents" / f"{name}.key")

    def revoke(self, name):
        with contextlib.suppress(FileNotFoundError):
            (self.dir / "agents" / f"{name}.key").unlink()

    # operator commands
    def cli(self, command, *args, timeout=30.0):
        """Runs `decnet-master COMMAND --dir D ARGS...`; a hang becomes returncode None (never raises)."""
        argv = [str(master_binary()), command, "--dir", str(self.dir), *map(str, args)]
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as error:
            return subprocess.CompletedProcess(argv, None, error.stdout or "", error.stderr or "")

    def fleet(self, timeout=10.0):
        """`agents --json` parsed, or None when it does not answer."""
        done = self.cli("agents", "--json", timeout=timeout)
        if done.returncode != 0:
            return None
        try:
            return json.loads(done.stdout)
        except ValueError:
            return None

    def counters(self):
        fleet = self.fleet()
        return None if fleet is None else fleet.get("counters") or {}

    def agent(self, agent_id):
        fleet = self.fleet()
        if fleet is None:
            return None
        return next((a for a in fleet.get("agents", []) if a.get("agent_id") == agent_id), None)

    def state(self, agent_id, timeout=20, process_timeout=None):
        """`state --agent ID --timeout T`; returns (CompletedProcess, parsed stdout or None, seconds)."""
        started = time.monotonic()
        done = self.cli("state", "--agent", agent_id, "--timeout", timeout,
                        timeout=process_timeout or (float(timeout) + 15))
        elapsed = time.monotonic() - started
        try:
            body = json.loads(done.stdout) if done.stdout.strip() else None
        except ValueError:
            body = None
        return done, body, elapsed

    def state_ok(self, agent_id, timeout=20):
        done, body, _ = self.state(agent_id, timeout)
        return done.returncode == 0 and isinstance(body, dict) and body.get("status") == 200

    def wait_connected(self, agent_id, timeout=20.0, boot_id=None):
        """Waits until `agents --json` shows the agent connected (with `boot_id` when given)."""
        def check():
            entry = self.agent(agent_id)
            return entry if entry and entry.get("connected") and (boot_id is None or entry.get("boot_id") ==
                                                                   boot_id) else None
        return poll_until(check, timeout, 0.2, f"{agent_id} connected")

    def wait_counter(self, predicate, timeout, what="counter"):
        """Polls the counters until `predicate(counters)` is truthy; returns the counters."""
        def check():
            counters = self.counters()
            return counters if counters is not None and predicate(counters) else None
        return poll_until(check, timeout, 0.2, what)


# -- the real agent


@contextlib.contextmanager
def patched_environment(values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


FAST_LINK = {"DECNET_RECONNECT_IVL_MS": "200", "DECNET_RECONNECT_IVL_MAX_MS": "1000"}


def start_agent(directory, master, agent_id, key, *, env=None, heartbeat_interval="1", endpoints=None):
    """Runs `decnet-agent run` for `agent_id` with `key` against `master` (or `endpoints` = (command, heartbeat),
    e.g. through a relay). `env` adds DECNET_* timer overrides for this process only."""
    directory = pathlib.Path(directory)

    class Target:
        command_endpoint, heartbeat_endpoint = endpoints or (master.command_endpoint, master.heartbeat_endpoint)
        public_file = master.public_file

    log_path = directory / f"{agent_id}.log"
    offset = log_path.stat().st_size if log_path.exists() else 0
    with patched_environment(env or {}):
        agent = agent_process.AgentProcess(
            agent_binary(), agent_id=agent_id, master=Target, key_file=key.secret,
            state_dir=directory / f"{agent_id}-state", log_path=log_path, heartbeat_interval=heartbeat_interval)
    agent.log_file = LogFile(agent.log_path)
    agent.log_offset = offset  # a restarted agent appends to the same log
    return agent


def agent_boot_id(agent, timeout=10.0):
    """The boot id this agent process logged at start ("agent started ... boot_id=...")."""
    def find():
        match = re.findall(r"boot_id=([0-9a-f-]{36})", agent.log()[getattr(agent, "log_offset", 0):])
        return match[0] if match else None
    return poll_until(find, timeout, 0.1, f"boot id of {agent.agent_id}")


# -- rogue clients


class RogueAgent:
    """A pyzmq client holding an enrolled (or not) agent key: DEALER to the command port and PUB to the heartbeat
    port, both CURVE clients pinning the master's key, with monitors. Not thread-safe: one thread uses it (except
    `FloodSender`, which owns its own sockets)."""

    HANDSHAKE_EVENTS = (zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_AUTH
                        | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
                        | zmq.EVENT_DISCONNECTED | zmq.EVENT_CONNECTED)

    def __init__(self, master, secret_file, *, routing_id=None, command=True, publish=True, reconnect_ms=100,
                 sndhwm=None, command_endpoint=None, heartbeat_endpoint=None):
        self.context = zmq.Context()
        self.public, self.secret = load_keys(secret_file)
        self.server_key, _ = load_keys(master.public_file)
        self.received = []  # every envelope (parsed, or raw bytes) the DEALER received
        self.events = {"dealer": [], "pub": []}
        self.dealer = self.pub = None
        self._monitors = {}
        if command:
            self.dealer = self._socket(zmq.DEALER, routing_id, reconnect_ms, sndhwm)
            self._monitor("dealer", self.dealer)
            self.dealer.connect(command_endpoint or master.command_endpoint)
        if publish:
            self.pub = self._socket(zmq.PUB, None, reconnect_ms, sndhwm)
            self._monitor("pub", self.pub)
            self.pub.connect(heartbeat_endpoint or master.heartbeat_endpoint)

    def _socket(self, kind, routing_id, reconnect_ms, sndhwm):
        s = self.context.socket(kind)
        s.linger = 0
        s.curve_serverkey = self.server_key
        s.curve_publickey = self.public
        s.curve_secretkey = self.secret
        s.reconnect_ivl = reconnect_ms
        s.setsockopt(zmq.RECONNECT_IVL_MAX, max(reconnect_ms, 1000))
        if sndhwm is not None:
            s.sndhwm = sndhwm
        if routing_id is not None:
            s.setsockopt(zmq.ROUTING_ID, routing_id)
        return s

    def _monitor(self, name, s):
        self._monitors[name] = s.get_monitor_socket(self.HANDSHAKE_EVENTS)

    def pump(self, timeout=0.0):
        """Reads what arrived (DEALER envelopes, monitor events) for up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            busy = False
            for name, monitor in self._monitors.items():
                while monitor.poll(0):
                    event = recv_monitor_message(monitor)
                    self.events[name].append(zmq.Event(event["event"]).name)
                    busy = True
            if self.dealer is not None:
                while self.dealer.poll(0):
                    frames = self.dealer.recv_multipart()
                    try:
                        self.received.append(json.loads(frames[-1]))
                    except ValueError:
                        self.received.append(frames[-1][:200])
                    busy = True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if not busy:
                time.sleep(min(0.02, remaining))

    def handshake(self, which="dealer", timeout=10.0):
        """'ok', 'refused' (a handshake failure event) or None (nothing yet) for the socket `which`."""
        deadline = time.monotonic() + timeout
        while True:
            self.pump(0)
            names = self.events[which]
            if "HANDSHAKE_SUCCEEDED" in names:
                return "ok"
            if any(n.startswith("HANDSHAKE_FAILED") for n in names):
                return "refused"
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)

    def handshakes_succeeded(self, which="dealer"):
        self.pump(0)
        return self.events[which].count("HANDSHAKE_SUCCEEDED")

    def send(self, envelope):
        data = envelope if isinstance(envelope, (bytes, bytearray, memoryview)) else json.dumps(envelope).encode()
        self.dealer.send(data, copy=False)

    def publish(self, topic, envelope):
        data = envelope if isinstance(envelope, (bytes, bytearray, memoryview)) else json.dumps(envelope).encode()
        self.pub.send_multipart([topic.encode(), data], copy=False)

    def requests(self):
        """Request envelopes (apply/teardown/state/ping) received so far."""
        self.pump(0)
        return [m for m in self.received if isinstance(m, dict) and m.get("type") in REQUEST_TYPES]

    def close(self):
        for monitor in self._monitors.values():
            monitor.close(0)
        for s in (self.dealer, self.pub):
            if s is not None:
                with contextlib.suppress(zmq.ZMQError):
                    s.disable_monitor()
                s.close(0)
        self.context.term()


class FloodSender(threading.Thread):
    """Sends `count` copies of `payloads[0]` on a CURVE DEALER (with `routing_id`) and of `[topic, payloads[1]]` on
    a PUB,
    as fast as the sockets take them (small send HWM so the flooder itself stays small), in its own context and
    thread, for at most `deadline_s` seconds."""

    def __init__(self, master, secret_file, payloads, count, *, topic, routing_id=None, deadline_s=45.0):
        super().__init__(daemon=True)
        self.master, self.secret_file, self.payloads = master, secret_file, payloads
        self.count, self.topic, self.routing_id, self.deadline_s = count, topic, routing_id, deadline_s
        self.sent = {"dealer": 0, "pub": 0}
        self.error = None

    def run(self):
        context = zmq.Context()
        public, secret = load_keys(self.secret_file)
        server, _ = load_keys(self.master.public_file)
        sockets = {}
        try:
            for name, kind, endpoint in (("dealer", zmq.DEALER, self.master.command_endpoint),
                                         ("pub", zmq.PUB, self.master.heartbeat_endpoint)):
                s = context.socket(kind)
                s.linger = 0
                s.sndhwm = 2
                s.sndtimeo = 200
                s.curve_serverkey, s.curve_publickey, s.curve_secretkey = server, public, secret
                if name == "dealer" and self.routing_id is not None:
                    s.setsockopt(zmq.ROUTING_ID, self.routing_id)
                s.connect(endpoint)
                sockets[name] = s
            time.sleep(0.5)  # let the PUB's subscription arrive
            frames = {"dealer": zmq.Frame(self.payloads[0]), "pub": zmq.Frame(self.payloads[1])}
            deadline = time.monotonic() + self.deadline_s
            while time.monotonic() < deadline and min(self.sent.values()) < self.count:
                for name, s in sockets.items():
                    if self.sent[name] >= self.count:
                        continue
                    try:
                        if name == "dealer":
                            s.send(frames[name], copy=False, flags=zmq.NOBLOCK)
                        else:
                            s.send_multipart([self.topic.encode(), frames[name]], copy=False, flags=zmq.NOBLOCK)
                        self.sent[name] += 1
                    except zmq.Again:
                        time.sleep(0.002)
        except Exception as error:  # reported by the test
            self.error = error
        finally:
            for s in sockets.values():
                s.close(0)
            context.term()


class UnknownKeyFlood:
    """`count` CURVE DEALERs with fresh unknown keys, opened in batches and closed again: one refused handshake each."""

    def __init__(self, master, count, batch=200, hold_s=0.4, deadline_s=20.0):
        server, _ = load_keys(master.public_file)
        context = zmq.Context()
        context.setsockopt(zmq.MAX_SOCKETS, 4096)
        self.opened = 0
        deadline = time.monotonic() + deadline_s
        try:
            while self.opened < count and time.monotonic() < deadline:
                sockets = []
                for _ in range(min(batch, count - self.opened)):
                    public, secret = zmq.curve_keypair()
                    s = context.socket(zmq.DEALER)
                    s.linger = 0
                    s.reconnect_ivl = 60000  # one handshake per socket
                    s.curve_serverkey, s.curve_publickey, s.curve_secretkey = server, public, secret
                    s.connect(master.command_endpoint)
                    sockets.append(s)
                self.opened += len(sockets)
                time.sleep(hold_s)
                for s in sockets:
                    s.close(0)
        finally:
            context.term()


class RawControl:
    """A plain DEALER on the master's control channel (ipc://D/control.ipc) for hand-made control messages."""

    def __init__(self, master):
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.linger = 0
        self.socket.connect(master.control_endpoint)

    def send(self, message):
        self.socket.send(json.dumps(message).encode() if isinstance(message, dict) else message)

    def receive(self, timeout):
        """Every control message that arrives within `timeout` seconds (returns at the first batch)."""
        messages = []
        if self.socket.poll(int(timeout * 1000)):
            while self.socket.poll(50):
                try:
                    messages.append(json.loads(self.socket.recv()))
                except ValueError:
                    messages.append(None)
        return messages

    def close(self):
        self.socket.close(0)
        self.context.term()


# -- plain TCP


class RawFlood:
    """Idle plain TCP connections to a port (non-blocking connects; nothing is ever sent)."""

    def __init__(self, port, count, host=LOOPBACK, deadline_s=20.0):
        self.sockets = []
        self.failed = 0
        self.selector = selectors.DefaultSelector()  # epoll: works past FD_SETSIZE
        deadline = time.monotonic() + deadline_s
        for _ in range(count):
            if time.monotonic() > deadline:
                break
            s = socket.socket()
            s.setblocking(False)
            code = s.connect_ex((host, port))
            if code not in (0, 115):  # EINPROGRESS
                self.failed += 1
                s.close()
                continue
            self.sockets.append(s)
        self.closed = set()

    def established(self):
        count = 0
        for s in self.sockets:
            try:
                s.getpeername()
                count += 1
            except OSError:
                pass
        return count

    def count_closed_by_peer(self):
        """Sockets the peer closed (EOF or reset) so far."""
        for s in self.sockets:
            if s.fileno() in self.closed or s.fileno() < 0:
                continue
            try:
                data = s.recv(4096)
                while data:  # the ZMTP greeting; keep reading until EAGAIN or EOF
                    data = s.recv(4096)
                self.closed.add(s.fileno())
            except BlockingIOError:
                pass
            except OSError:
                self.closed.add(s.fileno())
        return len(self.closed)

    def close(self):
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.close()
        self.selector.close()
        self.sockets = []


class TcpRelay:
    """A TCP relay on 127.0.0.1 to `target_port`. `blackhole()` stops forwarding every current connection in both
    directions without closing it (no FIN, no RST: like a NAT that forgot the mapping); new connections pass."""

    def __init__(self, target_port, host=LOOPBACK):
        self.target = (host, target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, 0))
        self.listener.listen(128)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.endpoint = f"tcp://{host}:{self.port}"
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        self.live = []  # [client, upstream] pairs being forwarded
        self.held = []  # blackholed pairs, kept open
        self.accepted = 0
        self._blackhole = threading.Event()
        self._blackholed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _close_pair(self, pair):
        for s in pair:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self.selector.unregister(s)
            with contextlib.suppress(OSError):
                s.close()
        with contextlib.suppress(ValueError):
            self.live.remove(pair)

    def _run(self):
        while not self._stop.is_set():
            if self._blackhole.is_set():
                for pair in list(self.live):
                    for s in pair:
                        with contextlib.suppress(KeyError, ValueError):
                            self.selector.unregister(s)
                    self.held.append(pair)
                self.live = []
                self._blackhole.clear()
                self._blackholed.set()
            for key, _ in self.selector.select(0.05):
                if key.data is None:
                    try:
                        client, _ = self.listener.accept()
                    except BlockingIOError:
                        continue
                    try:
                        upstream = socket.create_connection(self.target, timeout=2)
                    except OSError:
                        client.close()
                        continue
                    self.accepted += 1
                    pair = [client, upstream]
                    for s in pair:
                        s.settimeout(5)
                    self.live.append(pair)
                    self.selector.register(client, selectors.EVENT_READ, (pair, upstream))
                    self.selector.register(upstream, selectors.EVENT_READ, (pair, client))
                    continue
                pair, peer = key.data
                if pair not in self.live:
                    continue
                try:
                    data = key.fileobj.recv(65536)
                    if not data:
                        raise ConnectionResetError
                    peer.sendall(data)
                except OSError:
                    self._close_pair(pair)

    def blackhole(self, timeout=5.0):
        """Freezes every current connection; returns how many were frozen."""
        self._blackholed.clear()
        self._blackhole.set()
        assert self._blackholed.wait(timeout), "relay did not blackhole in time"
        return len(self.held)

    def close(self):
        self._stop.set()
        self._thread.join(5)
        for pair in self.live + self.held:
            for s in pair:
                with contextlib.suppress(OSError):
                    s.close()
        with contextlib.suppress(OSError):
            self.listener.close()
        self.selector.close()
