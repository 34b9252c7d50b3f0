"""Finds (building it when missing) and runs the real `decnet-agent` binary for the interop tests and the benchmark.

The binary comes from `DECNET_AGENT_BIN` when set, else from `swift build --show-bin-path` (with
`--scratch-path $DECNET_SCRATCH_PATH` and `-c $DECNET_BUILD_CONFIGURATION` when set).
"""
import os
import pathlib
import signal
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _swift_args():
    args = []
    if os.environ.get("DECNET_SCRATCH_PATH"):
        args += ["--scratch-path", os.environ["DECNET_SCRATCH_PATH"]]
    if os.environ.get("DECNET_BUILD_CONFIGURATION"):
        args += ["-c", os.environ["DECNET_BUILD_CONFIGURATION"]]
    return args


def agent_binary():
    """Path of decnet-agent; builds the product when the binary is not there yet."""
    if os.environ.get("DECNET_AGENT_BIN"):
        return pathlib.Path(os.environ["DECNET_AGENT_BIN"])
    bin_dir = subprocess.run(["swift", "build", *_swift_args(), "--show-bin-path"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
    path = pathlib.Path(bin_dir) / "decnet-agent"
    if not path.exists():
        subprocess.run(["swift", "build", *_swift_args(), "--product", "decnet-agent"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    return path


class AgentProcess:
    """One `decnet-agent run` connected to a master; its standard error goes to `log_path`."""

    def __init__(self, binary, *, agent_id, master, key_file, state_dir, log_path, master_key_file=None,
                 heartbeat_interval="1", extra=(), env=None):
        self.agent_id = agent_id
        self.log_path = pathlib.Path(log_path)
        args = [str(binary), "run", "--agent-id", agent_id,
                "--master-endpoint", master.command_endpoint, "--heartbeat-endpoint", master.heartbeat_endpoint,
                "--master-key", str(master_key_file or master.public_file), "--key", str(key_file),
                "--state-dir", str(state_dir), "--templates-dir", str(ROOT / "examples" / "templates"),
                "--base-image", "decnet-test/busybox:latest", "--heartbeat-interval", heartbeat_interval, *extra]
        self._log = open(self.log_path, "ab")
        environment = None if env is None else {**os.environ, **env}
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                        env=environment)

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process.poll() is None

    def memory(self):
        """VmRSS and VmHWM in KiB, from /proc/PID/status."""
        values = {}
        for line in pathlib.Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
        return values

    def stop(self, timeout=10.0):
        """SIGTERM, then waits; returns (exit status, seconds taken). Kills it when it does not stop in time."""
        if not self.alive():
            self._log.close()
            return self.process.returncode, 0.0
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            status = None
        self._log.close()
        return status, time.monotonic() - started

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""
