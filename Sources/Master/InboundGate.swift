import AgentProtocol
import DecnetJSON

/// The identity checks of wire protocol §2, as pure functions: every inbound message is admitted only when the
/// identity libzmq attached to it (the ZAP User-Id) agrees with what the message claims, and the key is still an
/// agent's. Nothing here trusts a routing id, a topic or a member the peer chose.
public struct InboundGate: Sendable {
    /// Whether an identity is currently an agent's (its key is still in `agents/`).
    public var isAgent: @Sendable (String) -> Bool
    /// Whether an identity is a monitor's.
    public var isMonitor: @Sendable (String) -> Bool
    /// The largest envelope admitted, in bytes.
    public var maxMessageSize: Int

    public init(
        maxMessageSize: Int, isAgent: @escaping @Sendable (String) -> Bool,
        isMonitor: @escaping @Sendable (String) -> Bool
    ) {
        self.maxMessageSize = maxMessageSize
        self.isAgent = isAgent
        self.isMonitor = isMonitor
    }

    /// An admitted message: who sent it (the User-Id) and its parsed envelope.
    public struct Admitted: Sendable {
        public var agentID: String
        public var envelope: JSONObject
        public var type: String
        /// The envelope's bytes as received (relayed verbatim).
        public var bytes: [UInt8]
    }

    /// A command-socket message as the ROUTER delivers it: `[routing id, envelope]`.
    public func admitCommand(frames: [[UInt8]], userId: String?) -> Result<Admitted, DropReason> {
        guard frames.count == 2 else { return .failure(.badFrames) }
        guard let userId, !userId.isEmpty else { return .failure(.noUserId) }
        guard frames[0].elementsEqual(userId.utf8) else { return .failure(.userIdMismatch) }
        if let reason = revocation(userId) { return .failure(reason) }
        return parse(frames[1], agentID: userId)
    }

    /// A heartbeat-socket message: `[topic, envelope]` with topic `hb.<agent id>` or `ev.<agent id>`.
    /// Returns the topic kind with the admitted message.
    public func admitPublished(frames: [[UInt8]], userId: String?) -> Result<(TopicKind, Admitted), DropReason> {
        guard frames.count == 2 else { return .failure(.badFrames) }
        guard let userId, !userId.isEmpty else { return .failure(.noUserId) }
        let topic = String(decoding: frames[0], as: UTF8.self)
        let kind: TopicKind
        if topic.hasPrefix("hb.") {
            kind = .heartbeat
        } else if topic.hasPrefix("ev.") {
            kind = .event
        } else {
            return .failure(.unexpectedType)
        }
        guard topic.utf8.dropFirst(3).elementsEqual(userId.utf8) else { return .failure(.topicMismatch) }
        if let reason = revocation(userId) { return .failure(reason) }
        return parse(frames[1], agentID: userId).map { (kind, $0) }
    }

    /// The two kinds of topic agents publish.
    public enum TopicKind: String, Sendable {
        case heartbeat = "hb"
        case event = "ev"
    }

    private func revocation(_ userId: String) -> DropReason? {
        if isAgent(userId) { return nil }
        return isMonitor(userId) ? .monitorKey : .revoked
    }

    /// Size, JSON, object, `proto`, `type`, and an `agent_id` member (when present) equal to the sender's.
    private func parse(_ bytes: [UInt8], agentID: String) -> Result<Admitted, DropReason> {
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
            guard case .string(let text) = claimed, text.value.utf8.elementsEqual(agentID.utf8) else {
                return .failure(.agentIdMismatch)
            }
        }
        return .success(Admitted(agentID: agentID, envelope: envelope, type: type.value, bytes: bytes))
    }
}
