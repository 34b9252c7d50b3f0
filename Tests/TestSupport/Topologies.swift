import AgentProtocol
import DecnetJSON
import Topology

/// Realistic hydrated topologies for agent tests, from DECNET's vectors.
public enum Topologies {
    /// DECNET's real generated 2-decky topology (one forwarding bridge publishing 22).
    public static let two: JSONValue = try! topology("real_2_deckies_ssh_only")

    public static func topology(_ name: String) throws -> JSONValue {
        guard let c = VectorCase.load("hash.json").first(where: { $0.name == name }), let input = c["input"] else {
            throw FixtureError("no hash vector \(name)")
        }
        return input
    }

    /// The same topology under another id.
    public static func renamed(_ t: JSONValue, id: String) -> JSONValue {
        guard case .object(var o) = t, case .object(var top)? = o["topology"] else { return t }
        top["id"] = .string(JSONString(id))
        o["topology"] = .object(top)
        return .object(o)
    }

    /// A copy with one decky's services changed.
    public static func withServices(_ t: JSONValue, decky index: Int, _ services: [String]) -> JSONValue {
        guard case .object(var o) = t, case .array(var deckies)? = o["deckies"], case .object(var d) = deckies[index]
        else { return t }
        d["services"] = JSONValue(services)
        deckies[index] = .object(d)
        o["deckies"] = .array(deckies)
        return .object(o)
    }

    public static func apply(_ t: JSONValue, hash: String? = nil, supersede: Bool = false) -> ApplyRequest {
        ApplyRequest(hydrated: t, versionHash: hash ?? CanonicalHash.hash(t), supersede: supersede)
    }
}
