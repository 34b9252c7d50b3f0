/// How ``SocketThread`` creates one socket: its type, its linger, whether it is monitored, and what happens to a send
/// that libzmq cannot take yet.
public struct SocketSetup: Sendable {
    /// The socket pattern.
    public var type: SocketType
    /// `ZMQ_LINGER` in milliseconds, set on every socket before anything else: 0 to 2000, so that closing or
    /// shutting down never hangs on a peer that is gone.
    public var linger: Int32
    /// Deliver this socket's monitor events (``SocketHandle/events``).
    public var monitored: Bool
    /// When libzmq would block (high-water mark, or no peer with `immediate`), keep the message and send it once the
    /// socket is writable (true), or complete the send as ``SendResult/wouldBlock`` at once (false). Queueing suits
    /// a DEALER or PUB; a ROUTER should not queue, since one slow peer would hold up all the others.
    public var queueWhenBlocked: Bool
    /// At most this many messages wait for a blocked socket; further sends fail with
    /// ``ZMQError/Code/resourceExhausted``.
    public var backlogLimit: Int
    /// Bounds what is received and not yet handled (``InboundBudget``); `nil` delivers everything.
    public var inboundBudget: InboundBudget?
    /// On an XPUB: runs it in manual mode and registers only the subscriptions the gate admits
    /// (``SubscriptionGate``); subscription messages are then not delivered to ``SocketHandle/messages``.
    public var subscriptionGate: SubscriptionGate?
    /// Sees every received message on the socket thread first, and may relay it there (``InlineHandler``).
    public var inlineHandler: (any InlineHandler)?

    /// Setup with a linger of `linger` milliseconds (0 to 2000; anything else is a programmer error).
    public init(
        _ type: SocketType,
        linger: Int32 = 1000,
        monitored: Bool = false,
        queueWhenBlocked: Bool? = nil,
        backlogLimit: Int = 10_000,
        inboundBudget: InboundBudget? = nil,
        subscriptionGate: SubscriptionGate? = nil,
        inlineHandler: (any InlineHandler)? = nil
    ) {
        precondition(subscriptionGate == nil || type == .xpub, "a subscription gate belongs on an XPUB")
        precondition((0...2000).contains(linger), "linger must be 0 to 2000 ms, got \(linger)")
        precondition(backlogLimit >= 0, "backlogLimit must not be negative")
        self.type = type
        self.linger = linger
        self.monitored = monitored
        self.queueWhenBlocked = queueWhenBlocked ?? (type != .router)
        self.backlogLimit = backlogLimit
        self.inboundBudget = inboundBudget
        self.subscriptionGate = subscriptionGate
        self.inlineHandler = inlineHandler
    }
}
