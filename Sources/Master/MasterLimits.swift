/// The master's bounds on what peers can make it hold (docs/security.md#resources). Every number a peer controls is
/// held under one of these.
public struct MasterLimits: Sendable, Hashable {
    /// Open connections on the three CURVE sockets at most; beyond it new connections are cut as soon as they are
    /// accepted. The server lowers it to fit the descriptor limit less ``descriptorReserve``.
    public var maxConnections: Int = 60_000
    /// Descriptors kept free for the master's own files, the Swift runtime and the allow-list reads.
    public var descriptorReserve: Int = 256
    /// `ZMQ_BACKLOG` of the three CURVE sockets (the kernel caps it at `net.core.somaxconn`, 4096 by default).
    public var listenBacklog: Int32 = 4096
    /// `ZMQ_HANDSHAKE_IVL`: a peer that has not finished its CURVE handshake by then is dropped (ms).
    public var handshakeMillis: Int32 = 5_000
    /// An authenticated command connection that has sent nothing (not even `hello`) by then is cut (ms).
    public var firstMessageMillis: Int64 = 15_000
    /// Bytes one key may have read and not yet handled by the master.
    public var perPeerBudgetBytes: Int = 40 << 20
    /// Bytes all peers together may have read and not yet handled.
    public var totalBudgetBytes: Int = 256 << 20
    /// Subscriptions one monitor key may hold on the relay over all its connections. A monitor that follows more
    /// agents than that subscribes by prefix (`hb.`, `ev.`, or everything). A subscription beyond it cuts the
    /// connection that sent it (``SubscriptionGate``); libzmq keeps each subscription in two tries, so the worst case
    /// (every topic at the longest length, no shared prefixes) costs about 15 MiB per monitor key.
    public var subscriptionsPerMonitor: Int = 2_048
    /// The longest subscription topic a monitor may send, in bytes: `hb.` or `ev.` and an agent id of up to 64.
    public var maxTopicBytes: Int = 67
    /// How long a `revoked` notice gets to leave before its connection is cut (ms).
    public var revokeGraceMillis: Int64 = 500

    public init() {}
}

/// Why the master cut a connection. Each is counted (`counters.connections.cut`).
public enum CutReason: String, Sendable, CaseIterable, Comparable {
    /// The key was removed or replaced in `agents/`.
    case revoked
    /// The key had more bytes waiting than its budget.
    case overBudget = "over_budget"
    /// A newer `hello` from the same agent arrived on another connection.
    case superseded
    /// An authenticated command connection sent nothing within ``MasterLimits/firstMessageMillis``.
    case mute
    /// The master was at its connection cap.
    case overCapacity = "over_capacity"
    /// The connection's key claimed to be someone else (topic or `agent_id`), or had no identity.
    case impostor
    /// A monitor sent a subscription over its key's limit, or a topic longer than any real one.
    case tooManySubscriptions = "too_many_subscriptions"
    /// A connection made with an enrolment token's key: after its one `enrol` answer, or when it sent anything else
    /// (docs/security.md#enrolment-tokens).
    case enrolmentOnly = "enrolment_only"

    public static func < (lhs: CutReason, rhs: CutReason) -> Bool { lhs.rawValue < rhs.rawValue }
}
