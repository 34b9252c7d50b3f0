import AgentProtocol
import DecnetJSON
import Foundation
import Topology

/// A hydrated topology in DECNET's shape that can run next to other people's Docker tests: a fresh uuid (its first
/// 8 characters name the bridges), deckies named after the test's token (service containers are not
/// topology-scoped), subnets no Docker network overlaps, and nothing published on the host (`forwards_l3` off).
struct FaultTopology: Sendable {
    struct Decky: Sendable {
        var name: String
        var services: [String]
        /// LAN indexes and host numbers, home LAN first.
        var addresses: [(lan: Int, host: Int)]
    }

    var id: String
    var subnets: [String]
    var deckies: [Decky]
    /// Bytes of filler in `topology.config_snapshot`, to make the stored blob large.
    var padding = 0

    /// `deckies` deckies running `services`, `perLAN` to a LAN; LAN 0 is the DMZ and every other LAN's first decky
    /// is also homed in the DMZ (its bridge).
    static func make(
        token: String,
        deckies count: Int,
        perLAN: Int = 8,
        services: [String] = ["idle"]
    )
        -> FaultTopology
    {
        let lanCount = (count + perLAN - 1) / perLAN
        var deckies: [Decky] = []
        for n in 0..<count {
            let lan = n / perLAN
            var addresses = [(lan: lan, host: 2 + n % perLAN)]
            if lan > 0 && n % perLAN == 0 { addresses.append((lan: 0, host: 200 + lan)) }
            deckies.append(Decky(name: "f\(token)-\(n + 1)", services: services, addresses: addresses))
        }
        return FaultTopology(
            id: UUID().uuidString.lowercased(),
            subnets: DockerProbe.freeSubnets(lanCount),
            deckies: deckies
        )
    }

    /// The same topology (id, names, subnets) with decky `index` running `services` instead: a new version.
    func withServices(decky index: Int, _ services: [String]) -> FaultTopology {
        var copy = self
        copy.deckies[index].services = services
        return copy
    }

    /// The same topology with `bytes` of filler in its config snapshot: a new version with a large stored blob.
    func padded(_ bytes: Int) -> FaultTopology {
        var copy = self
        copy.padding = bytes
        return copy
    }

    var prefix: String { String(id.prefix(8)) }
    func lanName(_ index: Int) -> String { String(format: "LAN-%02d", index) }
    var bridgeNames: Set<String> { Set(subnets.indices.map { "decnet_t_\(prefix)_\(lanName($0).lowercased())" }) }

    /// Base containers `decnet_t_<id8>_<decky>` and service containers `<decky>-<service>` (the test catalog's
    /// suffixes are the service names).
    var containerNames: Set<String> {
        Set(deckies.flatMap { d in ["decnet_t_\(prefix)_\(d.name)"] + d.services.map { "\(d.name)-\($0)" } })
    }

    func address(lan: Int, host: Int) -> String {
        String(subnets[lan].dropLast(4)) + String(host)  // "10.a.b.0/24" -> "10.a.b." + host
    }

    var hash: String { CanonicalHash.hash(hydrated) }

    var hydrated: JSONValue {
        let lans: [JSONValue] = subnets.indices.map { i in
            [
                "id": JSONValue("lan-\(i)"), "topology_id": JSONValue(id), "name": JSONValue(lanName(i)),
                "subnet": JSONValue(subnets[i]), "is_dmz": .bool(i == 0), "docker_network_id": .null,
            ]
        }
        var rows: [JSONValue] = []
        var edges: [JSONValue] = []
        for (n, decky) in deckies.enumerated() {
            let ips = decky.addresses.map {
                (JSONString(lanName($0.lan)), JSONValue(address(lan: $0.lan, host: $0.host)))
            }
            let config: JSONValue = [
                "name": JSONValue(decky.name), "services": JSONValue(decky.services),
                "ips_by_lan": .object(JSONObject(ips)),
                "forwards_l3": false, "service_config": [:],
            ]
            rows.append([
                "uuid": JSONValue("d-\(n + 1)"), "topology_id": JSONValue(id), "name": JSONValue(decky.name),
                "services": JSONValue(decky.services), "decky_config": config, "ip": ips[0].1, "state": "pending",
            ])
            for home in decky.addresses {
                edges.append([
                    "id": JSONValue("e-\(n + 1)-\(home.lan)"), "topology_id": JSONValue(id),
                    "decky_uuid": JSONValue("d-\(n + 1)"), "lan_id": JSONValue("lan-\(home.lan)"),
                    "is_bridge": .bool(decky.addresses.count > 1), "forwards_l3": false,
                ])
            }
        }
        let snapshot: JSONValue = padding > 0 ? ["filler": JSONValue(String(repeating: "x", count: padding))] : [:]
        return [
            "topology": [
                "id": JSONValue(id), "name": "fault test", "mode": "agent", "target_host_uuid": "fault-host",
                "config_snapshot": snapshot, "status": "pending",
            ],
            "lans": .array(lans), "deckies": .array(rows), "edges": .array(edges),
        ]
    }

    /// The `apply` request envelope for this topology with request id `id`.
    func applyRequest(id requestID: String) -> JSONValue {
        OutgoingRequest(id: requestID, .apply(ApplyRequest(hydrated: hydrated, versionHash: hash))).jsonValue
    }

    /// The `teardown` request envelope for this topology with request id `id`.
    func teardownRequest(id requestID: String) -> JSONValue {
        OutgoingRequest(id: requestID, .teardown(topologyID: id)).jsonValue
    }
}
