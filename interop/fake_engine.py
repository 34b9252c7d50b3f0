"""A scripted Docker Engine on a unix socket, for what a real dockerd will not do on demand: accept and never answer,
freeze in the middle of its work, or send a body that never ends. Each connection is served by its own thread.

Modes (`FakeEngine.mode` may change while it runs):
  "healthy"   answers version negotiation, lists (empty), the event stream (kept open, silent); records every
              request, and answers anything that would change Docker with 500 (so a test sees it was attempted)
  "silent"    accepts connections, reads the request, never answers
  "endless"   answers a list with a 200 whose chunked body never ends
"""
import os
import socket
import threading
import time

API = "1.41"


class FakeEngine:
    def __init__(self, path, mode="healthy"):
        self.path = str(path)
        self.mode = mode
        self.requests = []  # request lines, in order
        self.bytes_sent = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._connections = []
        with_suppressed(os.unlink, self.path)
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(64)
        self.server.settimeout(0.2)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def docker_host(self):
        return f"unix://{self.path}"

    def mutating_requests(self):
        with self._lock:
            return [r for r in self.requests if not r.startswith(("GET ", "HEAD "))]

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.server.close()
        with self._lock:
            connections = list(self._connections)
        for c in connections:
            with_suppressed(c.close)
        with_suppressed(os.unlink, self.path)

    # -- serving

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self._connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buffer = b""
        try:
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                length = next((int(l.split(":", 1)[1]) for l in lines if l.lower().startswith("content-length:")), 0)
                while len(buffer) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                buffer = buffer[length:]
                request = lines[0]
                with self._lock:
                    self.requests.append(request)
                if not self._answer(conn, request):
                    return
        except OSError:
            return

    def _answer(self, conn, request):
        """Answers one request; False when the connection is done with."""
        mode = self.mode
        if mode == "silent":
            self._stop.wait()  # hold the connection open, say nothing
            return False
        method, target = request.split(" ")[:2]
        path = target.split("?")[0]
        if path.startswith("/v1."):
            path = "/" + path.split("/", 2)[2]
        if path == "/_ping":
            return self._send(conn, "200 OK", "OK", "text/plain", [f"API-Version: {API}"])
        if path == "/version":
            return self._send(conn, "200 OK", f'{{"ApiVersion":"{API}","Version":"20.10.24","MinAPIVersion":"1.12"}}')
        if path == "/events":
            head = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                    f"Api-Version: {API}\r\n\r\n")
            self._write(conn, head.encode())
            self._stop.wait()  # a live stream with no events
            return False
        if method in ("GET", "HEAD") and mode == "endless" and path in ("/containers/json", "/networks"):
            head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            if not self._write(conn, head.encode() + b"1\r\n[\r\n"):
                return False
            piece = b'{"Id":"' + b"a" * 1000 + b'"},'
            chunk = b"%x\r\n" % (len(piece) * 64) + piece * 64 + b"\r\n"
            while not self._stop.is_set():
                if not self._write(conn, chunk):
                    return False
            return False
        if method in ("GET", "HEAD") and path in ("/containers/json", "/networks", "/images/json"):
            return self._send(conn, "200 OK", "[]")
        if method in ("GET", "HEAD"):
            return self._send(conn, "404 Not Found", '{"message":"no such object"}')
        return self._send(conn, "500 Internal Server Error", '{"message":"the fake engine changes nothing"}')

    def _send(self, conn, status, body, content_type="application/json", extra=()):
        data = body.encode()
        head = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", f"Content-Length: {len(data)}",
                f"Api-Version: {API}", *extra]
        return self._write(conn, ("\r\n".join(head) + "\r\n\r\n").encode() + data)

    def _write(self, conn, data):
        try:
            conn.sendall(data)
        except OSError:
            return False
        with self._lock:
            self.bytes_sent += len(data)
        return True


def with_suppressed(function, *args):
    try:
        function(*args)
    except OSError:
        pass


def wait_until(predicate, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
