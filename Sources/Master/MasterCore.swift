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
    let clock: @Sendable () -> Int64
    let silence: SilencePolicy
    var outlets = MasterOutlets.none
    var zapStatistics: @Sendable () -> (agents: ZAPHandler.Statistics?, monitors: ZAPHandler.Statistics?) = {
        (nil, nil)
    }
    var subscribers: [RequestKey: [Subscriber]] = [:]
    var nextLocalID = 0
    /// Control clients watching the fleet, with when their subscription runs out.
    var watchers: [[UInt8]: Int64] = [:]
    var fleetChanged = false
    var lastWatchPush: Int64 = 0
    var stopped = false

    /// How long a `watch` lasts without renewal, and the least time between two pushes.
    static let watchLifetime: Int64 = 30_000
    static let watchPushInterval: Int64 = 500

    public init(
        gate: InboundGate, retryInterval: Duration, silence: SilencePolicy = SilencePolicy(), logger: Logger,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.gate = gate
        self.silence = silence
        self.tracker = RequestTracker(retryInterval: Self.milliseconds(retryInterval))
        self.logger = logger
        self.clock = clock
    }

    /// Connects the core to its sockets, its identity checks and the ZAP handlers' statistics.
    public func attach(
        _ outlets: MasterOutlets, gate: InboundGate? = nil,
        zapStatistics: @escaping @Sendable () -> (agents: ZAPHandler.Statistics?, monitors: ZAPHandler.Statistics?)
    ) {
        self.outlets = outlets
        if let gate { self.gate = gate }
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
        let agents = fleet.sortedRecords.map { record in
            record.jsonValue(now: now, pending: tracker.pending(agentID: record.agentID).map(Self.pendingJSON))
        }
        let zap = zapStatistics()
        return ControlMessage.fleet(
            now: now, agents: agents, counters: counters.jsonValue(agentsZAP: zap.agents, monitorsZAP: zap.monitors))
    }

    static func pendingJSON(_ entry: RequestTracker.Entry) -> JSONValue {
        [
            "id": .string(JSONString(entry.key.requestID)), "type": .string(JSONString(entry.type.rawValue)),
            "phase": .string(JSONString(entry.phase.rawValue)), "attempts": JSONValue(entry.attempts),
        ]
    }

    /// Counts a libzmq monitor event of one of the CURVE server sockets.
    public func socketEvent(_ event: SocketEvent, role: MasterCounters.SocketRole) {
        counters.record(event, on: role)
        switch event.kind {
        case .handshakeFailedAuth, .handshakeFailedProtocol, .handshakeFailedNoDetail:
            logger.warning(
                "handshake refused",
                metadata: [
                    "socket": "\(role.rawValue)", "event": "\(event.kind)",
                    "value": "\(event.value)", "endpoint": "\(event.endpoint)",
                ])
        default:
            break
        }
    }

    // MARK: requests

    /// Takes a wire request for `agentID` (checked with the agent's own decoder) and sends it when the agent is
    /// connected; `subscriber` hears every answer.
    func submit(
        agentID: String, request: JSONObject, timeoutMillis: Int64, subscriber: Subscriber
    ) async -> Result<(key: RequestKey, connected: Bool), MasterError> {
        guard !stopped else {
            return .failure(MasterError(.shutdown, operation: "submit", message: "the master is stopping"))
        }
        guard Identifiers.isValidAgentID(agentID) else {
            return .failure(
                MasterError(.badRequest, operation: "submit", message: "\(agentID) is not a valid agent id"))
        }
        let decoded: Request
        switch RequestDecoder().decode(request) {
        case .success(let value): decoded = value
        case .failure(let rejected):
            return .failure(MasterError(.badRequest, operation: "submit", message: rejected.error.message))
        }
        let key = RequestKey(agentID: agentID, requestID: decoded.id)
        let now = clock()
        let connected = fleet.isConnected(agentID)
        let outcome = tracker.submit(
            key: key, type: decoded.type, frame: Messages.frame(.object(request)), fingerprint: decoded.fingerprint,
            deadline: now + max(0, timeoutMillis), now: now, connected: connected)
        switch outcome {
        case .idReused:
            return .failure(
                MasterError(
                    .idReused, operation: "submit", message: "request id \(decoded.id) is in flight with other content")
            )
        case .attached:
            addSubscriber(subscriber, for: key)
            await notifySubmitted(subscriber, key: key, connected: connected)
        case .new(let actions):
            addSubscriber(subscriber, for: key)
            // Told before anything is sent, so "submitted" always comes before the agent's answers.
            await notifySubmitted(subscriber, key: key, connected: connected)
            logger.info(
                "request submitted",
                metadata: [
                    "agent": "\(agentID)", "id": "\(decoded.id)",
                    "type": "\(decoded.type.rawValue)", "connected": "\(connected)",
                ])
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
                let sent = await outlets.toAgent(key.agentID, frame)
                let now = clock()
                if sent {
                    tracker.sendSucceeded(key, now: now)
                    if resend { counters.requestsResent += 1 } else { counters.requestsSent += 1 }
                    logger.debug("request sent", metadata: ["request": "\(key)", "resend": "\(resend)"])
                } else {
                    tracker.sendFailed(key, now: now)
                    fleet.unreachable(agentID: key.agentID)
                    logger.info("agent not reachable; request waits", metadata: ["request": "\(key)"])
                }
            case .expire(let key):
                counters.timeouts += 1
                logger.warning("request timed out", metadata: ["request": "\(key)"])
                let error = MasterError(.timeout, operation: "request \(key)", message: "no result before the deadline")
                await finish(
                    key, with: .failed(error),
                    controlMessage: ControlMessage.error(
                        id: key.requestID, code: "timeout", message: error.message))
            }
        }
    }

    /// Delivers a last event to every subscriber of `key` and forgets them.
    func finish(_ key: RequestKey, with event: RequestEvent, controlMessage: JSONValue) async {
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

    /// Timers: silent agents, deadlines, re-sends, watch pushes.
    public func tick() async {
        let now = clock()
        let policy = silence
        let silenced = fleet.silence(now: now) { record in policy.limit(for: record) ?? .max }
        for agentID in silenced {
            counters.silentAgents += 1
            fleetChanged = true
            let record = fleet[agentID]
            logger.warning(
                "agent silent; requests wait for it",
                metadata: [
                    "agent": "\(agentID)",
                    "last_seen_ms_ago": "\(now - (record?.lastSeenAt ?? now))",
                    "limit_ms": "\(record.flatMap { policy.limit(for: $0) } ?? 0)",
                ])
        }
        let fleet = self.fleet
        await perform(tracker.tick(now: now) { fleet.isConnected($0) })
        await pushToWatchers(now: clock())
    }

    /// Ends every local request with ``MasterError/Code/shutdown`` and refuses new ones.
    public func shutdown() async {
        stopped = true
        for key in subscribers.keys {
            let error = MasterError(.shutdown, operation: "request \(key)", message: "the master stopped")
            await finish(
                key, with: .failed(error),
                controlMessage: ControlMessage.error(
                    id: key.requestID, code: "shutdown", message: error.message))
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
