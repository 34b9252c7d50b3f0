import AgentProtocol
import DecnetJSON
import ZeroMQ

/// The identity checks of the wire protocol (docs/wire-protocol.md#identity), as pure functions. libzmq attaches
/// the sender's ZAP User-Id (its CURVE public key in Z85) to every message; the gate maps that key to an agent id
/// through the allow-list as it is now, and admits the message only when everything it claims (topic, `agent_id`)
/// agrees. Nothing here trusts a routing id, a topic or a member the peer chose.
public struct InboundGate: Sendable {
    /// The agent whose allow-list entry holds the key with this User-Id now, or `nil` (never listed, or revoked).
    public var agentIdentity: @Sendable (String) -> String?
    /// Whether a User-Id is a monitor's key.
    public var isMonitor: @Sendable (String) -> Bool
    /// The largest envelope admitted, in bytes.
    public var maxMessageSize: Int
    /// Enrolment by token (docs/security.md#enrolment-tokens), when served.
    public var tokenEnrolment: TokenEnrolment?

    /// The ZAP User-Id of a connection made with an enrolment token's key is this prefix and the key in Z85. An
    /// agent's User-Id is its bare Z85 key (40 characters, never a space), so the two can never be confused.
    public static let enrolmentUserIdPrefix = "enrol "

    public init(
        maxMessageSize: Int,
        agentIdentity: @escaping @Sendable (String) -> String?,
        isMonitor: @escaping @Sendable (String) -> Bool,
        tokenEnrolment: TokenEnrolment? = nil
    ) {
        self.maxMessageSize = maxMessageSize
        self.agentIdentity = agentIdentity
        self.isMonitor = isMonitor
        self.tokenEnrolment = tokenEnrolment
    }

    /// The token key of an enrolment-only connection's User-Id, or `nil` for any other sender.
    public static func enrolmentKey(userId: String?) -> CurveKey? {
        guard let userId, userId.hasPrefix(enrolmentUserIdPrefix) else { return nil }
        return try? CurveKey(z85: String(userId.dropFirst(enrolmentUserIdPrefix.count)))
    }

    /// An admitted message: who sent it (the agent its key belongs to) and its parsed envelope.
    public struct Admitted: Sendable {
        public var agentID: String
        /// The sender's public key in Z85 (its ZAP User-Id).
        public var key: String
        public var envelope: JSONObject
        public var type: String
        /// The envelope's bytes as received (relayed verbatim).
        public var bytes: [UInt8]
    }

    /// A command-socket message as the ROUTER delivers it: `[routing id, envelope]`. The routing id names the
    /// connection, nothing more; who sent the message is what the key says.
    public func admitCommand(frames: [[UInt8]], userId: String?) -> Result<Admitted, DropReason> {
        guard frames.count == 2 else { return .failure(.badFrames) }
        guard let userId, !userId.isEmpty else { return .failure(.noUserId) }
        let agentID: String
        switch identify(userId) {
        case .success(let value): agentID = value
        case .failure(let reason): return .failure(reason)
        }
        return parse(frames[1], agentID: agentID, key: userId)
    }

    /// A heartbeat-socket message: `[topic, envelope]` with topic `hb.<agent id>` or `ev.<agent id>`.
    /// Returns the topic kind with the admitted message.
    public func admitPublished(frames: [[UInt8]], userId: String?) -> Result<(TopicKind, Admitted), DropReason> {
        guard frames.count == 2 else { return .failure(.badFrames) }
        guard let userId, !userId.isEmpty else { return .failure(.noUserId) }
        // An enrolment-only connection publishes nothing that is relayed.
        guard Self.enrolmentKey(userId: userId) == nil else { return .failure(.enrolmentOnly) }
        let topic = frames[0]
        let kind: TopicKind
        if topic.starts(with: Self.heartbeatPrefix) {
            kind = .heartbeat
        } else if topic.starts(with: Self.eventPrefix) {
            kind = .event
        } else {
            return .failure(.unexpectedType)
        }
        let agentID: String
        switch identify(userId) {
        case .success(let value): agentID = value
        case .failure(let reason): return .failure(reason)
        }
        guard Self.sameBytes(topic.dropFirst(3), agentID) else { return .failure(.topicMismatch) }
        return parse(frames[1], agentID: agentID, key: userId).map { (kind, $0) }
    }

    private static let heartbeatPrefix = Array("hb.".utf8)
    private static let eventPrefix = Array("ev.".utf8)

    /// Whether `bytes` are exactly the UTF-8 bytes of `text` (no Unicode equivalence: an identity is its bytes).
    static func sameBytes(_ bytes: ArraySlice<UInt8>, _ text: String) -> Bool {
        var text = text
        return text.withUTF8 { utf8 in
            bytes.count == utf8.count && bytes.withUnsafeBufferPointer { $0.elementsEqual(utf8) }
        }
    }

    static func sameBytes(_ first: String, _ second: String) -> Bool {
        var first = first
        var second = second
        return first.withUTF8 { one in second.withUTF8 { other in one.elementsEqual(other) } }
    }

    /// The two kinds of topic agents publish.
    public enum TopicKind: String, Sendable {
        case heartbeat = "hb"
        case event = "ev"
    }

    private func identify(_ userId: String) -> Result<String, DropReason> {
        if let agentID = agentIdentity(userId) { return .success(agentID) }
        return .failure(isMonitor(userId) ? .monitorKey : .revoked)
    }

    /// Size, JSON, object, `proto`, `type`, and an `agent_id` member (when present) equal to the sender's.
    private func parse(_ bytes: [UInt8], agentID: String, key: String) -> Result<Admitted, DropReason> {
        guard bytes.count <= maxMessageSize else { return .failure(.oversize) }
        guard let value = try? JSONParser.parse(bytes, maxDepth: WireProtocol.maxDepth),
            case .object(let envelope) = value
        else { return .failure(.garbage) }
        guard case .integer(let proto)? = envelope["proto"] else { return .failure(.garbage) }
        guard proto.intValue.map(WireProtocol.supportedVersions.contains) == true else {
            return .failure(.unsupportedProto)
        }
        guard case .string(let type)? = envelope["type"] else { return .failure(.garbage) }
        if let claimed = envelope["agent_id"] {
            guard case .string(let text) = claimed, Self.sameBytes(text.value, agentID) else {
                return .failure(.agentIdMismatch)
            }
        }
        return .success(Admitted(agentID: agentID, key: key, envelope: envelope, type: type.value, bytes: bytes))
    }
}
