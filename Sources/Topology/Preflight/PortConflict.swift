import DecnetJSON

/// A host port the topology cannot publish, as reported in `details.ports` of a `port_conflict` error.
public struct PortConflict: Sendable, Hashable {
    public enum Reason: String, Sendable, Hashable, Comparable {
        /// More than one container of the topology publishes this host port.
        case collision
        /// Something on this host already listens on (TCP) or is bound to (UDP) this port.
        case bound

        public static func < (lhs: Reason, rhs: Reason) -> Bool {
            (lhs == .collision ? 0 : 1) < (rhs == .collision ? 0 : 1)
        }
    }

    public var port: Int
    public var proto: PortProtocol
    /// Deckies publishing the port, in plan order, each once.
    public var deckies: [String]
    public var reason: Reason

    public init(port: Int, proto: PortProtocol, deckies: [String], reason: Reason) {
        self.port = port
        self.proto = proto
        self.deckies = deckies
        self.reason = reason
    }

    /// `{"port": 22, "protocol": "tcp", "deckies": ["gw", "br1"], "reason": "collision"}`.
    public var jsonValue: JSONValue {
        .object([
            "port": JSONValue(port),
            "protocol": JSONValue(proto.rawValue),
            "deckies": JSONValue(deckies),
            "reason": JSONValue(reason.rawValue),
        ])
    }
}
