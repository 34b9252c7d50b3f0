import DecnetJSON

/// Constants of wire protocol v1 (docs: wire-protocol.md in the project's spec).
public enum WireProtocol {
    public static let version = 1
    public static let supportedVersions = [1]
    /// Default upper bound of one envelope; `ZMQ_MAXMSGSIZE` is set to the same value on both sides.
    public static let defaultMaxEnvelopeBytes = 16 * 1024 * 1024
    /// JSON nesting deeper than this is refused.
    public static let maxDepth = 512

    public static let defaultCommandPort = 8771
    public static let defaultHeartbeatPort = 8772
    public static let defaultMonitorPort = 8773

    /// Topic prefixes on the heartbeat and monitor sockets.
    public static func heartbeatTopic(_ agentID: String) -> String { "hb.\(agentID)" }
    public static func eventTopic(_ agentID: String) -> String { "ev.\(agentID)" }
}

/// The request types a master sends.
public enum RequestType: String, Sendable, CaseIterable {
    case apply, teardown, state, ping
    /// Make or switch to a new agent key pair (docs/wire-protocol.md#rotate-key); answered at once.
    case rotateKey = "rotate_key"

    /// Apply and teardown run long, one at a time; state and ping are answered at once.
    public var isLongRunning: Bool { self == .apply || self == .teardown }
}

/// The phases reported in `progress` messages.
public enum Phase: String, Sendable, CaseIterable {
    case verify, validate, preflight, networks, images, containers, teardown, record
}

/// Identifier rules of the wire protocol.
public enum Identifiers {
    /// `id`: 1 to 128 characters of `A-Z a-z 0-9 . _ : -`.
    public static func isValidRequestID(_ s: String) -> Bool {
        let u = s.utf8
        return (1...128).contains(u.count)
            && u.allSatisfy { isAlnum($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x3A || $0 == 0x2D }
    }

    /// `agent_id`: 1 to 64 characters of `A-Z a-z 0-9 . _ -`, not starting with `.`.
    public static func isValidAgentID(_ s: String) -> Bool { isNameLike(s, maxLength: 64) }

    /// A topology id safe in Docker names, labels and file names: 1 to 128 characters of `A-Z a-z 0-9 . _ -`, not
    /// starting with `.` (a DECNET uuid fits).
    public static func isValidTopologyID(_ s: String) -> Bool { isNameLike(s, maxLength: 128) }

    static func isNameLike(_ s: String, maxLength: Int) -> Bool {
        let u = s.utf8
        return (1...maxLength).contains(u.count) && u.first != 0x2E
            && u.allSatisfy { isAlnum($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    }

    @inline(__always)
    static func isAlnum(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    /// 64 lowercase hexadecimal digits.
    public static func isCanonicalHash(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
