/// Why the master dropped an inbound message. Each is logged and counted (``MasterCounters/dropped``).
public enum DropReason: String, Error, Sendable, CaseIterable, Comparable {
    /// The message carried no ZAP User-Id (it did not come through the ZAP handler).
    case noUserId = "no_user_id"
    /// On the heartbeat socket: the topic's agent id is not the sender's User-Id.
    case topicMismatch = "topic_mismatch"
    /// The envelope's `agent_id` member is not the sender's User-Id.
    case agentIdMismatch = "agent_id_mismatch"
    /// The sender's key is no longer in `agents/` (removed or replaced since its handshake).
    case revoked
    /// The sender's identity is a monitor's, which may only subscribe to the relay.
    case monitorKey = "monitor_key"
    /// The wrong number of frames for the socket (one envelope; on the heartbeat socket topic and envelope).
    case badFrames = "bad_frames"
    /// The envelope is over the configured size limit.
    case oversize
    /// Not JSON, not an object, or without a readable `proto` and `type`.
    case garbage
    /// `proto` is not a version this master speaks.
    case unsupportedProto = "unsupported_proto"
    /// A `type` that does not belong on this socket (a request sent to the master, a heartbeat on the command
    /// socket, a topic that is neither `hb.` nor `ev.`).
    case unexpectedType = "unexpected_type"
    /// A hello or heartbeat missing members it must have, or with a number outside its documented range.
    case malformed
    /// The sender had more bytes waiting to be handled than its budget allows (``InboundBudget``).
    case overBudget = "over_budget"
    /// From a connection made with an enrolment token's key: anything but its one `enrol` request on the command
    /// socket (docs/security.md#enrolment-tokens).
    case enrolmentOnly = "enrolment_only"

    public static func < (lhs: DropReason, rhs: DropReason) -> Bool { lhs.rawValue < rhs.rawValue }
}
