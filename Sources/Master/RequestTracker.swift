import AgentProtocol

/// Identifies one request: request ids are unique per agent.
public struct RequestKey: Hashable, Sendable, CustomStringConvertible {
    public var agentID: String
    public var requestID: String

    public init(agentID: String, requestID: String) {
        self.agentID = agentID
        self.requestID = requestID
    }

    public var description: String { "\(agentID)/\(requestID)" }
}

/// The master's outstanding requests and when to (re)send them: a state machine that takes events with the time
/// and returns actions, so tests drive it without sockets or sleeps.
///
/// ```
///   submit ─▶ waiting ──(agent connected: send)──▶ sent ──accepted──▶ accepted
///               ▲  ▲                                │ ▲                 │ │
///   send failed ┘  └──── agent gone (send failed) ◀─┘ └─ hello / quiet ─┘ │   re-send, SAME id
///                                                                          └─ result ─▶ finished
///   any state ── deadline passed ─▶ expired
/// ```
/// A request is re-sent with the same id when its agent says hello again (a new connection: anything in flight may
/// be lost) and when nothing about it arrived for ``retryInterval``. The agent answers a repeated id from its
/// store, so a re-send never runs anything twice.
public struct RequestTracker: Sendable {
    public enum Phase: String, Sendable {
        case waiting, sent, accepted
    }

    public struct Entry: Sendable {
        public var key: RequestKey
        public var type: RequestType
        public var frame: [UInt8]
        public var fingerprint: String
        public var deadline: Int64
        public var phase: Phase
        public var lastActivity: Int64
        public var attempts: Int
        /// A send action was handed out and its outcome is not known yet.
        public var sending: Bool
    }

    public enum Action: Sendable, Equatable {
        /// Send `frame` to the agent; `resend` when the same id went out before.
        case send(RequestKey, frame: [UInt8], resend: Bool)
        /// The deadline passed without a result; `sent` when the agent ever received the request.
        case expire(RequestKey, sent: Bool)
    }

    public enum SubmitOutcome: Sendable, Equatable {
        /// A new request; do these actions.
        case new([Action])
        /// The same request is already outstanding (a client retrying): nothing to send.
        case attached
        /// The id is outstanding with different content.
        case idReused
    }

    public enum AnswerOutcome: Sendable, Equatable {
        /// No such request is outstanding (a late answer to a retry, or an unknown id).
        case unknown
        /// `accepted` or `progress`: the request is alive.
        case alive
        /// The `result`: the request is finished and forgotten.
        case finished
    }

    public private(set) var entries: [RequestKey: Entry] = [:]
    /// Milliseconds without news before a request is sent again.
    public var retryInterval: Int64

    public init(retryInterval: Int64) {
        self.retryInterval = retryInterval
    }

    public mutating func submit(
        key: RequestKey,
        type: RequestType,
        frame: [UInt8],
        fingerprint: String,
        deadline: Int64,
        now: Int64,
        connected: Bool
    ) -> SubmitOutcome {
        if let existing = entries[key] {
            // A repeated submit never moves the deadline: a client that gave up must be able to trust that the
            // request expired when it said so (docs/control-channel.md#deadlines).
            guard existing.fingerprint == fingerprint else { return .idReused }
            return .attached
        }
        var entry = Entry(
            key: key,
            type: type,
            frame: frame,
            fingerprint: fingerprint,
            deadline: deadline,
            phase: .waiting,
            lastActivity: now,
            attempts: 0,
            sending: false
        )
        var actions: [Action] = []
        if connected {
            entry.sending = true
            actions.append(.send(key, frame: frame, resend: false))
        }
        entries[key] = entry
        return .new(actions)
    }

    /// The agent said hello: a new connection, so everything outstanding for it goes out again.
    public mutating func hello(agentID: String, now: Int64) -> [Action] {
        var actions: [Action] = []
        for key in entries.keys.sorted(by: { $0.requestID < $1.requestID }) where key.agentID == agentID {
            guard var entry = entries[key], !entry.sending else { continue }
            entry.sending = true
            actions.append(.send(key, frame: entry.frame, resend: entry.attempts > 0))
            entries[key] = entry
        }
        return actions
    }

    /// libzmq took the message.
    public mutating func sendSucceeded(_ key: RequestKey, now: Int64) {
        guard var entry = entries[key] else { return }
        entry.sending = false
        entry.attempts += 1
        if entry.phase == .waiting { entry.phase = .sent }
        entry.lastActivity = now
        entries[key] = entry
    }

    /// The agent is not connected (or its queue is full): wait for its next hello, or the next tick.
    public mutating func sendFailed(_ key: RequestKey, now: Int64) {
        guard var entry = entries[key] else { return }
        entry.sending = false
        entry.phase = .waiting
        entries[key] = entry
    }

    /// An `accepted`, `progress` or `result` for `key` arrived.
    public mutating func answer(_ key: RequestKey, type: String, now: Int64) -> AnswerOutcome {
        guard var entry = entries[key] else { return .unknown }
        if type == "result" {
            entries[key] = nil
            return .finished
        }
        if type == "accepted" { entry.phase = .accepted }
        entry.lastActivity = now
        entries[key] = entry
        return .alive
    }

    /// Deadlines and re-sends due at `now`. `isConnected` says whether an agent may be sent to.
    public mutating func tick(now: Int64, isConnected: (String) -> Bool) -> [Action] {
        var actions: [Action] = []
        for key in entries.keys.sorted(by: { ($0.agentID, $0.requestID) < ($1.agentID, $1.requestID) }) {
            guard var entry = entries[key] else { continue }
            if now >= entry.deadline {
                entries[key] = nil
                actions.append(.expire(key, sent: entry.attempts > 0 || entry.sending))
                continue
            }
            guard !entry.sending, isConnected(key.agentID) else { continue }
            let due = entry.phase == .waiting || now - entry.lastActivity >= retryInterval
            guard due else { continue }
            entry.sending = true
            entries[key] = entry
            actions.append(.send(key, frame: entry.frame, resend: entry.attempts > 0))
        }
        return actions
    }

    /// Forgets a request (its client gave up); returns whether the agent ever received it.
    @discardableResult
    public mutating func cancel(_ key: RequestKey) -> Bool? {
        guard let entry = entries.removeValue(forKey: key) else { return nil }
        return entry.attempts > 0 || entry.sending
    }

    /// Forgets every request of `agentID` (its key was revoked) and returns their keys.
    public mutating func drop(agentID: String) -> [RequestKey] {
        let keys = entries.keys.filter { $0.agentID == agentID }.sorted { $0.requestID < $1.requestID }
        for key in keys { entries[key] = nil }
        return keys
    }

    /// The outstanding requests of one agent, for the fleet view.
    public func pending(agentID: String) -> [Entry] {
        entries.values.filter { $0.key.agentID == agentID }.sorted { $0.key.requestID < $1.key.requestID }
    }
}
