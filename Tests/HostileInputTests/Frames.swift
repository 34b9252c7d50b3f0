import AgentProtocol
import DecnetJSON
import TestSupport
import Topology

/// Builders of command frames, valid and otherwise.
enum Frames {
    /// The topology every hostile apply starts from (and the one applied before each case).
    static let topology = Topologies.two
    static let topologyID = "5d81934e-4a18-580f-bd50-6df4ca24a41a"

    /// Compact JSON of an envelope whose members are given in order (so a test controls duplicates and order).
    static func envelope(_ members: [(String, JSONValue)]) -> [UInt8] {
        Messages.frame(.object(JSONObject(members.map { (JSONString($0.0), $0.1) })))
    }

    /// Raw bytes of a text, for frames that are not JSON an encoder would write.
    static func text(_ s: String) -> [UInt8] { Array(s.utf8) }

    static func ping(_ id: String = "p1") -> [UInt8] {
        envelope([("proto", 1), ("type", "ping"), ("id", .string(JSONString(id)))])
    }

    /// A ping carrying one more member, spelled as raw JSON text.
    static func ping(id: String, extra rawValue: String) -> [UInt8] {
        text(#"{"proto":1,"type":"ping","id":"\#(id)","extra":"#) + [UInt8](rawValue.utf8) + text("}")
    }

    /// An apply of `hydrated` with its correct canonical hash unless `hash` is given.
    static func apply(
        id: String,
        _ hydrated: JSONValue = topology,
        hash: String? = nil,
        extra: [(String, JSONValue)] = []
    ) -> [UInt8] {
        envelope(
            [
                ("proto", 1), ("type", "apply"), ("id", .string(JSONString(id))), ("hydrated", hydrated),
                ("version_hash", .string(JSONString(hash ?? CanonicalHash.hash(hydrated)))),
            ] + extra
        )
    }

    static func teardown(id: String, _ topologyID: JSONValue) -> [UInt8] {
        envelope([("proto", 1), ("type", "teardown"), ("id", .string(JSONString(id))), ("topology_id", topologyID)])
    }

    /// `depth` nested arrays as the value of an extra member of a ping: the envelope itself is one more level.
    static func pingNested(id: String, depth: Int) -> [UInt8] {
        ping(id: id, extra: String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
    }

    /// A string of `count` repeated characters.
    static func long(_ c: Character, _ count: Int) -> String { String(repeating: c, count: count) }

    // MARK: hostile topologies

    /// The base topology with `edit` applied to its root object.
    static func topology(_ edit: (inout JSONObject) -> Void) -> JSONValue {
        guard case .object(var root) = topology else { fatalError("the base topology is an object") }
        edit(&root)
        return .object(root)
    }

    /// The base topology with `topology.id` replaced (or removed when nil).
    static func topology(id: JSONValue?) -> JSONValue {
        topology { root in
            guard case .object(var t)? = root["topology"] else { return }
            t["id"] = id
            root["topology"] = .object(t)
        }
    }

    /// The base topology with LAN `index` renamed, and every `ips_by_lan` key naming it renamed too, so only the
    /// name itself is wrong.
    static func topology(lan index: Int, name: JSONValue) -> JSONValue {
        topology { root in
            guard case .array(var lans)? = root["lans"], case .object(var lan) = lans[index],
                let old = lan["name"]?.jsonStringValue
            else { return }
            lan["name"] = name
            lans[index] = .object(lan)
            root["lans"] = .array(lans)
            guard case .string(let new) = name, case .array(var deckies)? = root["deckies"] else { return }
            for i in deckies.indices {
                guard case .object(var decky) = deckies[i], case .object(var config)? = decky["decky_config"],
                    case .object(let ips)? = config["ips_by_lan"]
                else { continue }
                config["ips_by_lan"] = .object(JSONObject(ips.members.map { ($0.key == old ? new : $0.key, $0.value) }))
                decky["decky_config"] = .object(config)
                deckies[i] = .object(decky)
            }
            root["deckies"] = .array(deckies)
        }
    }

    /// The base topology with decky `index` renamed: its row `name` and `decky_config.name` unless `configOnly`.
    static func topology(decky index: Int, name: JSONValue, configOnly: Bool = false) -> JSONValue {
        topology { root in
            guard case .array(var deckies)? = root["deckies"], case .object(var decky) = deckies[index],
                case .object(var config)? = decky["decky_config"]
            else { return }
            if !configOnly { decky["name"] = name }
            config["name"] = name
            decky["decky_config"] = .object(config)
            deckies[index] = .object(decky)
            root["deckies"] = .array(deckies)
        }
    }

    /// The base topology with decky `index` listing `services` (row and `decky_config`).
    static func topology(decky index: Int, services: [String]) -> JSONValue {
        topology { root in
            guard case .array(var deckies)? = root["deckies"], case .object(var decky) = deckies[index],
                case .object(var config)? = decky["decky_config"]
            else { return }
            decky["services"] = JSONValue(services)
            config["services"] = JSONValue(services)
            decky["decky_config"] = .object(config)
            deckies[index] = .object(decky)
            root["deckies"] = .array(deckies)
        }
    }
}
