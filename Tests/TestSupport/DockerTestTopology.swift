import DecnetJSON
import Topology

/// A hydrated topology for the runtime tests: LANs with their subnets, deckies with addresses and services.
struct TestTopology: Sendable {
    struct LAN: Sendable {
        var name: String
        var subnet: String
        /// "10.x.y." so addresses are `prefix + host`.
        var prefix: String
        var dmz: Bool
    }

    struct Decky: Sendable {
        var name: String
        var services: [String]
        /// LAN name and host number, in `ips_by_lan` order.
        var addresses: [(lan: String, host: Int)]
        var forwards: Bool = false
        var serviceConfig: JSONValue? = nil
    }

    var id: String
    var lans: [LAN]
    var deckies: [Decky]

    /// A new topology id whose 8-character prefix is unique to this test.
    static func newID() -> String { "rt" + RuntimeTestEnvironment.token() + "-runtime-test" }

    /// `dmz` (published) and `lan-a` (internal), a forwarding gateway `gw…` on both with `web` and `echo`, and a
    /// host `h…` on `lan-a` running the built `probe` image.
    static func gatewayAndHost(id: String = newID()) -> TestTopology {
        let token = RuntimeTestEnvironment.token()
        let dmz = RuntimeTestEnvironment.subnet()
        var inner = RuntimeTestEnvironment.subnet()
        while inner.subnet == dmz.subnet { inner = RuntimeTestEnvironment.subnet() }
        return TestTopology(
            id: id,
            lans: [
                LAN(name: "DMZ", subnet: dmz.subnet, prefix: dmz.prefix, dmz: true),
                LAN(name: "lan-a", subnet: inner.subnet, prefix: inner.prefix, dmz: false),
            ],
            deckies: [
                Decky(
                    name: "gw\(token)",
                    services: ["web", "echo"],
                    addresses: [("DMZ", 2), ("lan-a", 2)],
                    forwards: true,
                    serviceConfig: ["web": ["level": "3"]]
                ),
                Decky(name: "h\(token)", services: ["probe"], addresses: [("lan-a", 3)]),
            ]
        )
    }

    var hydrated: JSONValue {
        let lanValues: [JSONValue] = lans.enumerated().map { i, lan in
            [
                "id": JSONValue("lan-\(i)"), "name": JSONValue(lan.name), "subnet": JSONValue(lan.subnet),
                "is_dmz": .bool(lan.dmz),
            ]
        }
        let deckyValues: [JSONValue] = deckies.enumerated().map { i, d in
            let ips = d.addresses.map { address -> (JSONString, JSONValue) in
                (JSONString(address.lan), JSONValue(self.address(address.lan, address.host)))
            }
            var cfg: JSONObject = [
                "name": JSONValue(d.name), "ips_by_lan": .object(JSONObject(ips)), "forwards_l3": .bool(d.forwards),
            ]
            if let sc = d.serviceConfig { cfg["service_config"] = sc }
            return [
                "uuid": JSONValue("d-\(i)"), "name": JSONValue(d.name), "services": JSONValue(d.services),
                "decky_config": .object(cfg),
            ]
        }
        return [
            "topology": ["id": JSONValue(id), "name": "runtime test"],
            "lans": .array(lanValues),
            "deckies": .array(deckyValues),
            "edges": [],
        ]
    }

    /// The address of host `host` on LAN `lan`.
    func address(_ lan: String, _ host: Int) -> String {
        (lans.first { $0.name == lan }?.prefix ?? "0.0.0.") + String(host)
    }

    var prefix: String { String(id.prefix(8)) }

    /// The Docker network of a LAN: `decnet_t_<prefix>_<lan lower-cased>`.
    func network(_ lan: String) -> String { "decnet_t_\(prefix)_\(lan.lowercased())" }

    /// The base container of a decky.
    func base(_ decky: String) -> String { "decnet_t_\(prefix)_\(decky)" }
}
