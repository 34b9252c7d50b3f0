"""The benchmark's 20-decky topology: 20 bases + 40 service containers from the example templates.

Four LANs with subnets that no Docker network on the daemon overlaps (a DMZ and three internal LANs chained by
multi-homed bridge deckies), one forwarding gateway only (so only its ports are published on the host), and decky
names carrying the run's token (service container names are not topology-scoped).
"""
import ipaddress
import random
import socket

DECKIES = 20
LANS = ("DMZ", "LAN-01", "LAN-02", "LAN-03")
SERVICE_PAIRS = (("ssh", "http"), ("mqtt", "redis"))
# TCP ports the default catalog gives these services (the gateway publishes them on the host).
PORTS = {"ssh": [22], "http": [80, 443], "mqtt": [1883], "redis": [6379]}


def port_free(port):
    """Whether nothing listens on TCP `port` on the host (a bind attempt; the benchmark runs as root)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
            return True
        except OSError:
            return False


def gateway_services():
    """The first service pair whose host ports are all free: the gateway publishes them."""
    for pair in SERVICE_PAIRS:
        if all(port_free(p) for s in pair for p in PORTS[s]):
            return list(pair)
    raise SystemExit("bench: host ports 22/80/443 and 1883/6379 are all taken; the gateway cannot publish them")


def free_subnets(taken, count):
    """`count` random /24s in 10.200.0.0/13-ish space that overlap none of `taken` (ip_network objects)."""
    chosen = []
    while len(chosen) < count:
        net = ipaddress.ip_network(f"10.{random.randint(200, 249)}.{random.randint(0, 255)}.0/24")
        if any(net.overlaps(t) for t in taken + chosen):
            continue
        chosen.append(net)
    return chosen


def generate(topology_id, token, taken_subnets):
    """The hydrated topology (DECNET's shape) and a description of it."""
    subnets = free_subnets(taken_subnets, len(LANS))
    lans = [
        {"id": f"lan-{i}", "topology_id": topology_id, "name": name, "subnet": str(subnets[i]), "is_dmz": i == 0}
        for i, name in enumerate(LANS)
    ]
    hosts = {name: 2 for name in LANS}

    def address(lan):
        i = LANS.index(lan)
        host = hosts[lan]
        hosts[lan] += 1
        return str(subnets[i].network_address + host)

    # decky 1: the gateway (DMZ + LAN-01, forwards); 2-5 on the DMZ; 6 bridges LAN-01 and LAN-02; 7-10 on LAN-01;
    # 11 bridges LAN-02 and LAN-03; 12-15 on LAN-02; 16-20 on LAN-03.
    placement = {1: ["DMZ", "LAN-01"], 6: ["LAN-01", "LAN-02"], 11: ["LAN-02", "LAN-03"]}
    for i in range(2, 6):
        placement[i] = ["DMZ"]
    for i in range(7, 11):
        placement[i] = ["LAN-01"]
    for i in range(12, 16):
        placement[i] = ["LAN-02"]
    for i in range(16, 21):
        placement[i] = ["LAN-03"]

    gateway = gateway_services()
    deckies, edges = [], []
    for i in range(1, DECKIES + 1):
        name = f"b{token}-{i:02d}"
        services = gateway if i == 1 else ["ssh", "http"]
        homes = placement[i]
        ips = {lan: address(lan) for lan in homes}
        uuid = f"d-{i}"
        deckies.append({
            "uuid": uuid, "topology_id": topology_id, "name": name, "services": services,
            "decky_config": {"name": name, "services": services, "ips_by_lan": ips, "forwards_l3": i == 1,
                             "service_config": {}},
            "ip": ips[homes[0]], "state": "pending",
        })
        for j, lan in enumerate(homes):
            edges.append({"id": f"e-{i}-{j}", "topology_id": topology_id, "decky_uuid": uuid,
                          "lan_id": f"lan-{LANS.index(lan)}", "is_bridge": len(homes) > 1, "forwards_l3": i == 1})
    hydrated = {
        "topology": {"id": topology_id, "name": "docker-bench", "mode": "agent", "config_snapshot": {},
                     "status": "pending", "version": 1},
        "lans": lans, "deckies": deckies, "edges": edges,
    }
    about = (f"{DECKIES} deckies on {len(LANS)} LANs ({', '.join(str(s) for s in subnets)}), gateway "
             f"{deckies[0]['name']} with {'+'.join(gateway)}, others ssh+http")
    return hydrated, about
