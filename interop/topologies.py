"""Topologies for tests and benchmarks that share one dockerd with other people's tests, and Docker clean-up.

Every topology made here has a fresh uuid4 id (its first 8 characters name the bridges), deckies renamed with a
unique prefix (service containers are named after the decky), subnets no existing Docker network overlaps, and no
host-published ports (`forwards_l3` off), so that it can run next to anyone else's.
"""
import ipaddress
import json
import pathlib
import random
import secrets
import subprocess
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "topology.json"
TOPOLOGY_LABEL = "decnet.topology.id"


def docker(*args, check=True):
    return subprocess.run(["docker", *args], check=check, capture_output=True, text=True).stdout


def used_subnets():
    """Every IPv4 subnet of an existing Docker network."""
    ids = docker("network", "ls", "-q").split()
    if not ids:
        return []
    nets = []
    for network in json.loads(docker("network", "inspect", *ids, check=False) or "[]"):
        for config in (network.get("IPAM") or {}).get("Config") or []:
            try:
                nets.append(ipaddress.ip_network(config.get("Subnet", ""), strict=False))
            except ValueError:
                pass
    return [n for n in nets if n.version == 4]


def free_subnets(count):
    """`count` /24 subnets in 10.192.0.0/10 that overlap no existing Docker network, picked at random."""
    used = used_subnets()
    chosen = []
    while len(chosen) < count:
        candidate = ipaddress.ip_network(f"10.{random.randint(192, 254)}.{random.randint(0, 255)}.0/24")
        if any(candidate.overlaps(n) for n in used + chosen):
            continue
        chosen.append(candidate)
    return chosen


def unique_example():
    """examples/topology.json with a fresh id, unique decky names, free subnets and no published ports."""
    topology = json.loads(EXAMPLE.read_text())
    tag = secrets.token_hex(3)
    topology_id = str(uuid.uuid4())
    old_id = topology["topology"]["id"]
    subnets = free_subnets(len(topology["lans"]))
    renamed = {}
    for lan, subnet in zip(topology["lans"], subnets):
        old = ipaddress.ip_network(lan["subnet"])
        lan["subnet"] = str(subnet)
        renamed[old] = subnet
    def move(ip):
        address = ipaddress.ip_address(ip)
        for old, new in renamed.items():
            if address in old:
                return str(new.network_address + (int(address) - int(old.network_address)))
        return ip
    names = {}
    for decky in topology["deckies"]:
        names[decky["name"]] = f"pyi{tag}-{decky['name'].split('-')[-1]}"
        decky["name"] = names[decky["name"]]
        config = decky["decky_config"]
        config["name"] = decky["name"]
        config["forwards_l3"] = False
        config["ips_by_lan"] = {lan: move(ip) for lan, ip in config["ips_by_lan"].items()}
        decky["ip"] = move(decky["ip"])
    for edge in topology["edges"]:
        edge["forwards_l3"] = False
    return _retag(topology, old_id, topology_id)


def generated(deckies, services=("ssh", "http"), per_lan=10):
    """A topology of `deckies` deckies, each running `services`, `per_lan` deckies per LAN (LAN 0 is the DMZ;
    every other LAN is reached from it through its first decky, which also sits in the DMZ)."""
    tag = secrets.token_hex(3)
    topology_id = str(uuid.uuid4())
    lan_count = (deckies + per_lan - 1) // per_lan
    subnets = free_subnets(lan_count)
    lans = [{"id": f"lan-{i}", "topology_id": topology_id, "name": f"LAN-{i:02d}", "subnet": str(net),
             "is_dmz": i == 0, "docker_network_id": None} for i, net in enumerate(subnets)]
    rows, edges = [], []
    for n in range(deckies):
        lan = n // per_lan
        name = f"pyb{tag}-{n + 1:03d}"
        ips = {lans[lan]["name"]: str(subnets[lan].network_address + 2 + n % per_lan)}
        homes = [lan]
        if lan > 0 and n % per_lan == 0:  # the LAN's bridge decky, also homed in the DMZ
            ips[lans[0]["name"]] = str(subnets[0].network_address + 200 + lan)
            homes.append(0)
        rows.append({"uuid": f"d-{n + 1}", "topology_id": topology_id, "name": name, "services": list(services),
                     "decky_config": {"name": name, "services": list(services), "ips_by_lan": ips,
                                      "forwards_l3": False, "service_config": {}},
                     "ip": next(iter(ips.values())), "state": "pending"})
        for home in homes:
            edges.append({"id": f"e-{n + 1}-{home}", "topology_id": topology_id, "decky_uuid": f"d-{n + 1}",
                          "lan_id": lans[home]["id"], "is_bridge": len(homes) > 1, "forwards_l3": False})
    return {"topology": {"id": topology_id, "name": f"bench-{tag}", "mode": "agent",
                         "target_host_uuid": "host-bench", "config_snapshot": {}, "status": "pending"},
            "lans": lans, "deckies": rows, "edges": edges}


def _retag(topology, old_id, new_id):
    text = json.dumps(topology).replace(old_id, new_id)
    return json.loads(text)


def topology_id(hydrated):
    return hydrated["topology"]["id"]


def containers(topology_id, all_states=True):
    """Names and ids of the containers labelled with the topology, as `docker ps` lists them."""
    args = ["ps", "--no-trunc", "--filter", f"label={TOPOLOGY_LABEL}={topology_id}", "--format",
            "{{.ID}} {{.Names}}"]
    if all_states:
        args.insert(1, "-a")
    pairs = [line.split(" ", 1) for line in docker(*args).splitlines() if line.strip()]
    return {name: cid for cid, name in pairs}


def bridges(topology_id):
    return docker("network", "ls", "-q", "--filter", f"label={TOPOLOGY_LABEL}={topology_id}").split()


def remove_everything(topology_id):
    """Removes every container and network labelled with the topology (clean-up after a failed test)."""
    ids = list(containers(topology_id).values())
    if ids:
        docker("rm", "-f", *ids, check=False)
    nets = bridges(topology_id)
    if nets:
        docker("network", "rm", *nets, check=False)
