import DecnetJSON
import Topology

/// A hydrated topology for the Docker runtime's tests, with and without a daemon: LANs with their subnets, deckies
/// with addresses and services, and the Docker names the runtime gives them.
public struct DockerTestTopology: Sendable {
    public struct LAN: Sendable {
        public var name: String
        public var subnet: String
        /// "10.x.y." so addresses are `prefix + host`.
        public var prefix: String
        public var dmz: Bool

        public init(name: String, subnet: String, prefix: String, dmz: Bool) {
            self.name = name
            self.subnet = subnet
            self.prefix = prefix
            self.dmz = dmz
        }
    }

    public struct Decky: Sendable {
        public var name: String
        public var services: [String]
        /// LAN name and host number, in `ips_by_lan` order.
        public var addresses: [(lan: String, host: Int)]
        public var forwards: Bool
        public var serviceConfig: JSONValue?

        public init(
            name: String,
            services: [String],
            addresses: [(lan: String, host: Int)],
            forwards: Bool = false,
            serviceConfig: JSONValue? = nil
        ) {
            self.name = name
            self.services = services
            self.addresses = addresses
            self.forwards = forwards
            self.serviceConfig = serviceConfig
        }
    }

    public var id: String
    public var lans: [LAN]
    public var deckies: [Decky]

    public init(id: String, lans: [LAN], deckies: [Decky]) {
        self.id = id
        self.lans = lans
        self.deckies = deckies
    }

    public var hydrated: JSONValue {
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
    public func address(_ lan: String, _ host: Int) -> String {
        (lans.first { $0.name == lan }?.prefix ?? "0.0.0.") + String(host)
    }

    public var prefix: String { String(id.prefix(8)) }

    /// The Docker network of a LAN: `decnet_t_<prefix>_<lan lower-cased>`.
    public func network(_ lan: String) -> String { "decnet_t_\(prefix)_\(lan.lowercased())" }

    /// The base container of a decky.
    public func base(_ decky: String) -> String { "decnet_t_\(prefix)_\(decky)" }
}
