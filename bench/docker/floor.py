"""The floor: the Engine calls a topology needs, straight from the compose document, with no agent logic.

Apply: create the networks, then for every base create + connect its other bridges + start, and for every service
container (after its base has started) create + start. Teardown: stop + remove the service containers, then the
bases, then remove the networks. No inventory, no config hashes, no image resolution, no retries, no store: the
create bodies are the ones the agent sends (init, restart policy, capabilities, sysctls, logging, binds, published
ports, static addresses), from a client that keeps one keep-alive connection per worker thread.
"""
import collections
import threading

from engine import Engine

FLOOR_LABEL = "decnet.bench.floor"


def _env(environment):
    if isinstance(environment, dict):
        return [f"{k}={v}" for k, v in environment.items() if v is not None]
    return list(environment or [])


def create_body(key, service, doc_services):
    """The `POST /containers/create` body of one compose service, and the bridges to connect after the first."""
    host = {
        "Init": True,
        "RestartPolicy": {"Name": service.get("restart", "no"), "MaximumRetryCount": 0},
        "LogConfig": {"Type": service["logging"]["driver"], "Config": service["logging"].get("options", {})},
    }
    if service.get("cap_add"):
        host["CapAdd"] = service["cap_add"]
    if service.get("sysctls"):
        host["Sysctls"] = {k: str(v) for k, v in service["sysctls"].items()}
    if service.get("volumes"):
        host["Binds"] = service["volumes"]
    body = {"Image": service["image"], "Labels": dict(service.get("labels", {}), **{FLOOR_LABEL: "1"})}
    if service.get("command"):
        body["Cmd"] = service["command"]
    env = _env(service.get("environment"))
    if env:
        body["Env"] = env
    extra = []
    mode = service.get("network_mode", "")
    if mode.startswith("service:"):
        host["NetworkMode"] = "container:" + doc_services[mode[len("service:"):]]["container_name"]
    else:
        body["Hostname"] = service.get("hostname", key)
        nets = list(service.get("networks", {}).items())
        if nets:
            first, cfg = nets[0]
            host["NetworkMode"] = first
            body["NetworkingConfig"] = {"EndpointsConfig": {first: {
                "IPAMConfig": {"IPv4Address": cfg["ipv4_address"]}, "Aliases": [key]}}}
            extra = [(name, {"IPAMConfig": {"IPv4Address": c["ipv4_address"]}, "Aliases": [key]})
                     for name, c in nets[1:]]
        else:
            host["NetworkMode"] = "none"
        if service.get("ports"):
            exposed, bindings = {}, {}
            for p in service["ports"]:
                hp, cp = p.split(":", 1)
                cp = cp if "/" in cp else cp + "/tcp"
                exposed[cp] = {}
                bindings.setdefault(cp, []).append({"HostIp": "", "HostPort": hp})
            body["ExposedPorts"] = exposed
            host["PortBindings"] = bindings
    body["HostConfig"] = host
    return body, extra


class _Work:
    """`workers` threads over one queue whose tasks may add tasks (at the front: a started base's service
    containers go before the bases still waiting, as the agent does); wait() returns when all are done and raises
    the first error."""

    def __init__(self, workers):
        self.cond = threading.Condition()
        self.queue = collections.deque()
        self.pending = 0
        self.error = None
        self.closed = False
        self.threads = [threading.Thread(target=self._worker, daemon=True) for _ in range(workers)]
        for t in self.threads:
            t.start()

    def add(self, fn, *args, front=False):
        with self.cond:
            if self.error:
                return
            self.pending += 1
            (self.queue.appendleft if front else self.queue.append)((fn, args))
            self.cond.notify()

    def _worker(self):
        while True:
            with self.cond:
                while not self.queue and not self.closed:
                    self.cond.wait()
                if self.closed and not self.queue:
                    return
                fn, args = self.queue.popleft()
            try:
                fn(*args)
            except BaseException as e:  # noqa: BLE001 - reported by wait()
                with self.cond:
                    self.error = self.error or e
                    self.queue.clear()
                    self.pending = 0
                    self.cond.notify_all()
                continue
            with self.cond:
                self.pending -= 1
                self.cond.notify_all()

    def wait(self):
        with self.cond:
            while self.pending > 0 and not self.error:
                self.cond.wait()
            self.closed = True
            self.cond.notify_all()
        for t in self.threads:
            t.join()
        if self.error:
            raise self.error


def apply(doc, networks, concurrency, engine=None):
    """Makes the document real; `networks` maps a network name to (subnet, internal, labels). Returns the ids."""
    engine = engine or Engine()
    services = doc["services"]
    made = {"networks": [], "containers": {}}
    for name, (subnet, internal, labels) in networks.items():
        answer = engine.call("POST", "/networks/create", {
            "Name": name, "CheckDuplicate": True, "Driver": "bridge", "Internal": internal,
            "IPAM": {"Driver": "default", "Config": [{"Subnet": subnet}]}, "Labels": dict(labels, **{FLOOR_LABEL: "1"})})
        made["networks"].append(answer["Id"])
    dependants = {}
    for key, s in services.items():
        mode = s.get("network_mode", "")
        if mode.startswith("service:"):
            dependants.setdefault(mode[len("service:"):], []).append(key)
    lock = threading.Lock()
    work = _Work(concurrency)

    def up(key):
        body, extra = create_body(key, services[key], services)
        cid = engine.call("POST", "/containers/create", body, query={"name": services[key]["container_name"]})["Id"]
        with lock:
            made["containers"][key] = cid
        for net, endpoint in extra:
            engine.call("POST", f"/networks/{net}/connect", {"Container": cid, "EndpointConfig": endpoint})
        engine.call("POST", f"/containers/{cid}/start")
        for dep in dependants.get(key, []):
            work.add(up, dep, front=True)

    for key, s in services.items():
        if not s.get("network_mode", "").startswith("service:"):
            work.add(up, key)
    work.wait()
    return made


def teardown(doc, made, concurrency, stop_timeout, engine=None):
    """Stops and removes the containers (service containers first), then the networks."""
    engine = engine or Engine()
    services = doc["services"]

    def down(cid):
        engine.call("POST", f"/containers/{cid}/stop", query={"t": str(stop_timeout)}, ok=(204, 304),
                    timeout=stop_timeout + 60)
        engine.call("DELETE", f"/containers/{cid}", query={"force": "1", "v": "1"})

    for dependants_first in (True, False):
        work = _Work(concurrency)
        for key, cid in made["containers"].items():
            if services[key].get("network_mode", "").startswith("service:") == dependants_first:
                work.add(down, cid)
        work.wait()
    for nid in made["networks"]:
        engine.call("DELETE", f"/networks/{nid}")
