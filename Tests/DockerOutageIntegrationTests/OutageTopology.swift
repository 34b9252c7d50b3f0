import DecnetJSON
import Foundation

/// A hydrated topology for the outage tests: one DMZ LAN on a subnet no host route covers, `count` deckies each
/// running `web` and `idle`, no forwarding (nothing is published on the host).
struct OutageTopology: Sendable {
    let id: String
    let subnet: String
    let prefix: String
    let deckyNames: [String]

    init(deckies count: Int) {
        let token = String(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(6))
        id = "ot\(token)-outage-test"
        (subnet, prefix) = Self.freeSubnet()
        deckyNames = (1...count).map { String(format: "o\(token)-%02d", $0) }
    }

    /// Every container the plan has: per decky its base and its two services.
    var containerNames: Set<String> {
        Set(
            deckyNames.flatMap { name in
                ["decnet_t_\(id.prefix(8))_\(name)", "\(name)-web", "\(name)-idle"]
            }
        )
    }

    var networkName: String { "decnet_t_\(id.prefix(8))_dmz" }

    var hydrated: JSONValue {
        let deckies: [JSONValue] = deckyNames.enumerated().map { i, name in
            [
                "uuid": JSONValue("d-\(i)"), "name": JSONValue(name), "services": ["web", "idle"],
                "decky_config": [
                    "name": JSONValue(name), "ips_by_lan": ["DMZ": JSONValue(prefix + String(10 + i))],
                    "forwards_l3": false,
                ],
            ]
        }
        let edges: [JSONValue] = deckyNames.indices.map { i in
            ["id": JSONValue("e-\(i)"), "decky_uuid": JSONValue("d-\(i)"), "lan_id": "lan-dmz", "is_bridge": false]
        }
        return [
            "topology": ["id": JSONValue(id), "name": "outage test"],
            "lans": [["id": "lan-dmz", "name": "DMZ", "subnet": JSONValue(subnet), "is_dmz": true]],
            "deckies": .array(deckies), "edges": .array(edges),
        ]
    }

    /// A /24 in 10.200.0.0 to 10.249.255.0 that no route of the host overlaps. The private daemon runs in a network
    /// namespace of its own, so this is only caution: its addresses never meet the host's anyway.
    static func freeSubnet() -> (subnet: String, prefix: String) {
        let routes = hostRoutes()
        while true {
            let (b, c) = (UInt32.random(in: 200...249), UInt32.random(in: 0...255))
            let network: UInt32 = (10 << 24) | (b << 16) | (c << 8)
            let mask: UInt32 = 0xFFFF_FF00
            let overlaps = routes.contains { route in
                let common = route.mask & mask
                return route.destination & common == network & common && route.mask != 0
            }
            if !overlaps { return ("10.\(b).\(c).0/24", "10.\(b).\(c).") }
        }
    }

    /// (destination, mask) of every IPv4 route in `/proc/net/route` (which prints them as host-order
    /// integers of network-order bytes).
    static func hostRoutes() -> [(destination: UInt32, mask: UInt32)] {
        let text = (try? String(contentsOfFile: "/proc/net/route", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count > 7, let d = UInt32(fields[1], radix: 16), let m = UInt32(fields[7], radix: 16) else {
                return nil
            }
            return (UInt32(bigEndian: d), UInt32(bigEndian: m))
        }
    }
}
