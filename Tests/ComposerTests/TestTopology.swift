import DecnetJSON
import Topology

/// Small hydrated topologies for behaviour tests: one DMZ LAN `dmz` (10.0.0.0/24) unless told otherwise.
enum TestTopology {
    struct Decky {
        var name: String
        var services: [String]
        var ips: [(String, JSONValue)] = [("dmz", "10.0.0.2")]
        var forwards: JSONValue = false
        var serviceConfig: JSONValue? = nil
    }

    static func hydrated(
        id: String = "0123456789abcdef",
        lans: [(name: String, subnet: String, dmz: JSONValue)] = [("dmz", "10.0.0.0/24", true)],
        deckies: [Decky]
    ) -> JSONValue {
        let lanValues: [JSONValue] = lans.enumerated().map { i, lan in
            [
                "id": JSONValue("lan-\(i)"), "name": JSONValue(lan.name), "subnet": JSONValue(lan.subnet),
                "is_dmz": lan.dmz,
            ]
        }
        let deckyValues: [JSONValue] = deckies.enumerated().map { i, d in
            var cfg: JSONObject = [
                "name": JSONValue(d.name),
                "ips_by_lan": .object(JSONObject(d.ips.map { (JSONString($0.0), $0.1) })),
                "forwards_l3": d.forwards,
            ]
            if let sc = d.serviceConfig { cfg["service_config"] = sc }
            return [
                "uuid": JSONValue("d-\(i)"), "name": JSONValue(d.name), "services": JSONValue(d.services),
                "decky_config": .object(cfg),
            ]
        }
        return [
            "topology": ["id": JSONValue(id), "name": "t"],
            "lans": .array(lanValues),
            "deckies": .array(deckyValues),
            "edges": [],
        ]
    }

    /// The environment object of a compose service entry.
    static func environment(_ plan: ComposePlan, _ key: String) -> JSONObject? {
        plan.document["services"]?[key]?["environment"]?.objectValue
    }
}
