import AgentProtocol
import DecnetJSON
import Logging
import ZeroMQ

/// The master's state and rules, behind one actor: the fleet view, the outstanding requests, the counters, the
/// control clients. Socket loops feed it messages and events; it answers through ``MasterOutlets``.
///
/// After every `await` (a send) the state is looked at again: another message may have been handled meanwhile.
public actor MasterCore {
    var fleet = FleetView()
    var tracker: RequestTracker
    var counters = MasterCounters()
    var gate: InboundGate
    let logger: Logger
    /// Monotonic milliseconds: every timer and deadline (docs/security.md#time).
    let clock: @Sendable () -> Int64
    /// Unix milliseconds, only for what messages show.
    let wallClock: @Sendable () -> Int64
    let silence: SilencePolicy
    var limits: MasterLimits
    var routes = AgentRoutes()
    var connections = ConnectionTable()
    var logLimiter = LogLimiter()
    /// Whether an agent id has an allow-list entry now.
    var isEnrolled: @Sendable (String) -> Bool = { _ in false }
    /// Changes whenever the agents' allow-list does.
    var allowListGeneration: @Sendable () -> Int = { 0 }
    var lastAllowListGeneration: Int?
    var budgets: [InboundBudget] = []
    /// The monitor relay's subscription gate, and how many of its refusals were already counted and logged.
    var subscriptionGate: SubscriptionGate?
    /// Problems the allow-lists' last loads found (`agents/NAME: ...`, `monitors/NAME: ...`), and those already logged.
    var allowListIssues: @Sendable () -> [String] = { [] }
    var loggedAllowListIssues: Set<String> = []
    var subscriptionRefusalsSeen = 0
    /// Connections to cut once a message to them had time to leave (a `revoked` notice).
    var pendingCuts: [(at: Int64, connection: PeerConnection, reason: CutReason)] = []
    /// Token connections whose one `enrol` was answered (docs/security.md#enrolment-tokens).
    var enrolmentAnswered: Set<PeerConnection> = []
    var outlets = MasterOutlets.none
    var zapStatistics: @Sendable () -> (agents: ZAPHandler.Statistics?, monitors: ZAPHandler.Statistics?) = {
        (nil, nil)
    }
    /// The enrolment counters (docs/security.md#enrolment) as JSON.
    var enrolmentStatistics: @Sendable () -> JSONValue = { .null }
    var subscribers: [RequestKey: [Subscriber]] = [:]
    var nextLocalID = 0
    /// Control clients watching the fleet, with when their subscription runs out.
    var watchers: [[UInt8]: Int64] = [:]
    var fleetChanged = false
    var lastWatchPush: Int64 = 0
    var stopped = false
    /// Instruments fed beside ``counters`` (docs/metrics.md), and when each new request was taken.
    let metrics: MasterMetrics
    var requestStarts: [RequestKey: (type: RequestType, at: Int64)] = [:]
    /// Desired state and the reconcile loop (MasterCore+Reconcile.swift); `nil` until ``openDesiredState(store:settings:)``.
    var keeper: ReconcileKeeper?

    /// How long a `watch` lasts without renewal, and the least time between two pushes.
    static let watchLifetime: Int64 = 30_000
    static let watchPushInterval: Int64 = 500

    public init(
        gate: InboundGate,
        retryInterval: Duration,
        silence: SilencePolicy = SilencePolicy(),
        limits: MasterLimits = MasterLimits(),
        logger: Logger,
        clock: @escaping @Sendable () -> Int64,
        wallClock: @escaping @Sendable () -> Int64 = MasterConfiguration.systemMillis,
        metrics: MasterMetrics = .disabled
    ) {
        self.metrics = metrics
        self.gate = gate
        self.silence = silence
        self.limits = limits
        self.tracker = RequestTracker(retryInterval: Self.milliseconds(retryInterval))
        self.logger = logger
        self.clock = clock
        self.wallClock = wallClock
    }

    /// Connects the core to its sockets, its identity checks and the ZAP handlers' statistics.
    public func attach(
        _ outlets: MasterOutlets,
        gate: InboundGate? = nil,
        isEnrolled: (@Sendable (String) -> Bool)? = nil,
        allowListGeneration: (@Sendable () -> Int)? = nil,
        budgets: [InboundBudget] = [],
        subscriptionGate: SubscriptionGate? = nil,
        maxConnections: Int? = nil,
        allowListIssues: (@Sendable () -> [String])? = nil,
        enrolmentStatistics: (@Sendable () -> JSONValue)? = nil,
        zapStatistics: @escaping @Sendable () -> (agents: ZAPHandler.Statistics?, monitors: ZAPHandler.Statistics?)
    ) {
        self.outlets = outlets
        if let gate { self.gate = gate }
        if let isEnrolled { self.isEnrolled = isEnrolled }
        if let allowListGeneration { self.allowListGeneration = allowListGeneration }
        self.budgets = budgets
        self.subscriptionGate = subscriptionGate
        if let allowListIssues { self.allowListIssues = allowListIssues }
        if let enrolmentStatistics { self.enrolmentStatistics = enrolmentStatistics }
        if let maxConnections { limits.maxConnections = maxConnections }
        self.zapStatistics = zapStatistics
    }

    // MARK: views

    /// The counters so far.
    public var currentCounters: MasterCounters { counters }

    /// The record of one agent.
    public func record(_ agentID: String) -> AgentRecord? { fleet[agentID] }

    /// The fleet snapshot as the control channel's `fleet` message.
    public func snapshot() -> JSONValue {
        let now = clock()
        let wallNow = wallClock()
        let agents = fleet.sortedRecords.map { record in
            var value = record.jsonValue(
                now: now,
                wallNow: wallNow,
                pending: tracker.pending(agentID: record.agentID).map(Self.pendingJSON)
            )
            // The key of the agent's route (docs/security.md#key-rotation: the operator sees which key an agent
            // is connected with).
            if case .object(var object) = value {
                let key = routes[record.agentID].flatMap { try? CurveKey(z85: $0.key) }
                object["key_fingerprint"] = key.map { JSONValue($0.fingerprint) } ?? .null
                object["reconcile"] = reconcileJSON(record.agentID)
                value = .object(object)
            }
            return value
        }
        let zap = zapStatistics()
        let counted = counters.jsonValue(
            agentsZAP: zap.agents,
            monitorsZAP: zap.monitors,
            openConnections: connections.count,
            logSuppressed: logLimiter.suppressed,
            subscriptions: subscriptionGate?.statistics,
            allowListIssues: allowListIssues(),
            enrolment: enrolmentStatistics()
        )
        return ControlMessage.fleet(now: wallNow, agents: agents, counters: counted)
    }

    static func pendingJSON(_ entry: RequestTracker.Entry) -> JSONValue {
        [
            "id": .string(JSONString(entry.key.requestID)), "type": .string(JSONString(entry.type.rawValue)),
            "phase": .string(JSONString(entry.phase.rawValue)), "attempts": JSONValue(entry.attempts),
        ]
    }

    /// Counts a libzmq monitor event of one of the CURVE server sockets and keeps the connection table.
    public func socketEvent(_ event: SocketEvent, role: MasterCounters.SocketRole) {
        counters.record(event, on: role)
        metrics.socketEvent(event.kind, role: role)
        let now = clock()
        switch event.kind {
        case .accepted:
            connectionAccepted(descriptor: Int32(truncatingIfNeeded: event.value), role: role, now: now)
        case .closed, .disconnected:
            connectionClosed(descriptor: Int32(truncatingIfNeeded: event.value), role: role)
        case .handshakeFailedAuth, .handshakeFailedProtocol, .handshakeFailedNoDetail:
            log(
                .warning,
                "handshake refused",
                reason: "handshake_refused",
                metadata: ["socket": "\(role.rawValue)", "event": "\(event.kind)", "value": "\(event.value)"]
            )
        default:
            break
        }
    }

    /// Logs a line a peer can cause, at most ``LogLimiter/linesPerWindow`` per reason and window.
    func log(_ level: Logger.Level, _ message: Logger.Message, reason: String, metadata: Logger.Metadata) {
        let verdict = logLimiter.admit(reason, now: clock())
        guard verdict.allowed else { return }
        var metadata = metadata
        if verdict.held > 0 { metadata["held_back_since_last"] = "\(verdict.held)" }
        logger.log(level: level, message, metadata: metadata)
    }

    // MARK: requests

    /// Takes a wire request for `agentID` (checked with the agent's own decoder) and sends it when the agent is
    /// connected; `subscriber` hears every answer.
    func submit(
        agentID: String,
        request: JSONObject,
        timeoutMillis: Int64,
        subscriber: Subscriber
    ) async -> Result<(key: RequestKey, connected: Bool), MasterError> {
        guard !stopped else {
            return .failure(MasterError(.shutdown, operation: "submit", message: "the master is stopping"))
        }
        guard Identifiers.isValidAgentID(agentID) else {
            return .failure(
                MasterError(.badRequest, operation: "submit", message: "\(agentID) is not a valid agent id")
            )
        }
        guard isEnrolled(agentID) else {
            return .failure(
                MasterError(
                    .notEnrolled,
                    operation: "submit",
                    message: "\(agentID) has no key in the master's agents/ folder; nothing is sent to it"
                )
            )
        }
        let decoded: Request
        switch RequestDecoder().decode(request) {
        case .success(let value): decoded = value
        case .failure(let rejected):
            return .failure(MasterError(.badRequest, operation: "submit", message: rejected.error.message))
        }
        let key = RequestKey(agentID: agentID, requestID: decoded.id)
        let now = clock()
        let connected = isReachable(agentID)
        let outcome = tracker.submit(
            key: key,
            type: decoded.type,
            frame: Messages.frame(.object(request)),
            fingerprint: decoded.fingerprint,
            deadline: now + Self.clampedTimeout(timeoutMillis),
            now: now,
            connected: connected
        )
        switch outcome {
        case .idReused:
            return .failure(
                MasterError(
                    .idReused,
                    operation: "submit",
                    message: "request id \(decoded.id) is in flight with other content"
                )
            )
        case .attached:
            addSubscriber(subscriber, for: key)
            await notifySubmitted(subscriber, key: key, connected: connected)
        case .new(let actions):
            noteSubmitted(key, request: request, decoded: decoded, deadline: now + Self.clampedTimeout(timeoutMillis))
            addSubscriber(subscriber, for: key)
            metricsRequestStarted(key, type: decoded.type, now: now)
            // Told before anything is sent, so "submitted" always comes before the agent's answers.
            await notifySubmitted(subscriber, key: key, connected: connected)
            logger.info(
                "request submitted",
                metadata: [
                    "agent": "\(agentID)", "id": "\(decoded.id)",
                    "type": "\(decoded.type.rawValue)", "connected": "\(connected)",
                ]
            )
            await perform(actions)
        }
        return .success((key, connected))
    }

    private func notifySubmitted(_ subscriber: Subscriber, key: RequestKey, connected: Bool) async {
        switch subscriber {
        case .local(_, let continuation):
            continuation.yield(.submitted(agentConnected: connected))
        case .control(let client):
            let reply = ControlMessage.submitted(agentID: key.agentID, id: key.requestID, agentConnected: connected)
            _ = await outlets.toControl(client, ControlMessage.frame(reply))
        }
    }

    private func addSubscriber(_ subscriber: Subscriber, for key: RequestKey) {
        var list = subscribers[key] ?? []
        if let id = subscriber.controlID, list.contains(where: { $0.controlID == id }) { return }
        list.append(subscriber)
        subscribers[key] = list
    }

    /// Carries out the tracker's actions: sends (then records how they went) and expiries.
    func perform(_ actions: [RequestTracker.Action]) async {
        for action in actions {
            switch action {
            case .send(let key, let frame, let resend):
                guard let route = routes[key.agentID] else {
                    tracker.sendFailed(key, now: clock())
                    continue
                }
                let sent = await outlets.toAgent(route.routingId, frame)
                let now = clock()
                if sent {
                    tracker.sendSucceeded(key, now: now)
                    if resend { counters.requestsResent += 1 } else { counters.requestsSent += 1 }
                    metrics.sent(resend: resend)
                    logger.debug("request sent", metadata: ["request": "\(key)", "resend": "\(resend)"])
                } else {
                    tracker.sendFailed(key, now: now)
                    if routes[key.agentID] == route { routes.remove(key.agentID) }
                    fleet.unreachable(agentID: key.agentID)
                    logger.info("agent not reachable; request waits", metadata: ["request": "\(key)"])
                }
            case .expire(let key, let sent):
                counters.timeouts += 1
                logger.warning("request timed out", metadata: ["request": "\(key)", "sent": "\(sent)"])
                let text =
                    sent
                    ? "no result before the deadline; the agent received the request and may still carry it out"
                    : "no result before the deadline; the request was never sent and never will be"
                let error = MasterError(.timeout, operation: "request \(key)", message: text)
                await finish(
                    key,
                    with: .failed(error),
                    controlMessage: ControlMessage.error(
                        id: key.requestID,
                        code: "timeout",
                        message: text,
                        sent: sent
                    )
                )
            }
        }
    }

    /// Delivers a last event to every subscriber of `key` and forgets them.
    func finish(_ key: RequestKey, with event: RequestEvent, controlMessage: JSONValue) async {
        metricsRequestFinished(key, with: event)
        await durableFinished(key, controlMessage: controlMessage)
        let list = subscribers.removeValue(forKey: key) ?? []
        for subscriber in list {
            switch subscriber {
            case .local(_, let continuation):
                continuation.yield(event)
                continuation.finish()
            case .control(let client):
                _ = await outlets.toControl(client, ControlMessage.frame(controlMessage))
            }
        }
    }

    /// Timers: revocations, budgets, mute connections, silent agents, deadlines, re-sends, watch pushes.
    public func tick() async {
        await enforceAllowList()
        enforceBudgets()
        enforceConnections()
        noteSubscriptionRefusals()
        let now = clock()
        let policy = silence
        let silenced = fleet.silence(now: now) { record in policy.limit(for: record) ?? .max }
        for agentID in silenced {
            counters.silentAgents += 1
            metrics.agentSilenced()
            fleetChanged = true
            let record = fleet[agentID]
            logger.warning(
                "agent silent; requests wait for it",
                metadata: [
                    "agent": "\(agentID)",
                    "last_seen_ms_ago": "\(now - (record?.lastSeenAt ?? now))",
                    "limit_ms": "\(record.flatMap { policy.limit(for: $0) } ?? 0)",
                ]
            )
        }
        await perform(tracker.tick(now: now) { isReachable($0) })
        await reconcileTick()
        await pushToWatchers(now: clock())
    }

    /// Ends every local request with ``MasterError/Code/shutdown`` and refuses new ones.
    public func shutdown() async {
        stopped = true
        for key in subscribers.keys {
            let error = MasterError(.shutdown, operation: "request \(key)", message: "the master stopped")
            await finish(
                key,
                with: .failed(error),
                controlMessage: ControlMessage.error(
                    id: key.requestID,
                    code: "shutdown",
                    message: error.message
                )
            )
        }
    }

    /// Whether requests may be sent to the agent now: connected, with a route.
    func isReachable(_ agentID: String) -> Bool { fleet.isConnected(agentID) && routes[agentID] != nil }

    static func clampedTimeout(_ millis: Int64) -> Int64 { WireLimits.clampTimeout(millis) }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
