"""A minimal Docker Engine API client over the unix socket (http.client, keep-alive, one connection per thread).

Only what the benchmark needs: the floor's calls and cleanup by label. No retries, no logic.
"""
import http.client
import json
import os
import socket
import threading
import urllib.parse

API = "/v1.41"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("docker", timeout=timeout)
        self.socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


class EngineError(Exception):
    def __init__(self, method, path, status, message):
        super().__init__(f"{method} {path}: {status} {message}")
        self.status = status


class Engine:
    """Thread-safe: every thread gets its own keep-alive connection."""

    def __init__(self, socket_path=None, timeout=120):
        host = os.environ.get("DOCKER_HOST", "")
        self.socket_path = socket_path or (host[len("unix://"):] if host.startswith("unix://") else "/var/run/docker.sock")
        self.timeout = timeout
        self.local = threading.local()

    def _connection(self):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = _UnixConnection(self.socket_path, self.timeout)
            self.local.conn = conn
        return conn

    def call(self, method, path, body=None, query=None, ok=(200, 201, 204), timeout=None):
        """One request; returns the parsed JSON answer (or None). Statuses outside `ok` raise EngineError."""
        target = API + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else b""
        headers = {"Content-Type": "application/json", "Content-Length": str(len(data))}
        for attempt in (1, 2):
            conn = self._connection()
            if timeout is not None:
                conn.timeout = timeout
                if conn.sock:
                    conn.sock.settimeout(timeout)
            try:
                conn.request(method, target, body=data, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The daemon closed an idle keep-alive connection: one fresh attempt.
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
        if response.status not in ok:
            try:
                message = json.loads(raw).get("message", raw.decode(errors="replace"))
            except ValueError:
                message = raw.decode(errors="replace")
            raise EngineError(method, path, response.status, message)
        if raw and response.getheader("Content-Type", "").startswith("application/json"):
            return json.loads(raw)
        return None

    # Objects by label, for cleanup and checks.
    def containers(self, label, all=True):
        filters = json.dumps({"label": [label]})
        return self.call("GET", "/containers/json", query={"all": "1" if all else "0", "filters": filters})

    def networks(self, label=None):
        query = {"filters": json.dumps({"label": [label]})} if label else None
        return self.call("GET", "/networks", query=query)

    def remove_labelled(self, label):
        """Force-removes every container, then every network, carrying `label` (`key=value`); returns the counts."""
        containers = self.containers(label)
        # Service containers share their base's namespace: remove those with NetworkMode container:* first.
        containers.sort(key=lambda c: not c.get("HostConfig", {}).get("NetworkMode", "").startswith("container:"))
        for c in containers:
            self.call("DELETE", f"/containers/{c['Id']}", query={"force": "1", "v": "1"}, ok=(204, 404))
        networks = self.networks(label)
        for n in networks:
            self.call("DELETE", f"/networks/{n['Id']}", ok=(204, 404))
        return len(containers), len(networks)

    def subnets(self):
        """Every IPv4 subnet of every network the daemon has."""
        out = []
        for n in self.networks():
            for cfg in (n.get("IPAM") or {}).get("Config") or []:
                if cfg.get("Subnet") and ":" not in cfg["Subnet"]:
                    out.append(cfg["Subnet"])
        return out
