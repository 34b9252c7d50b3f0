/// Settings of the master's reconcile loop (docs/control-channel.md#reconcile).
public struct ReconcileSettings: Sendable, Hashable {
    /// Consecutive heartbeats showing drift on the desired topology before it is re-applied.
    public var driftHeartbeats: Int = 3
    /// The wait after the first push that did not bring the agent in sync; doubles with every further one.
    public var backoff: Duration = .seconds(5)
    public var backoffMax: Duration = .seconds(300)
    /// Pushes (and teardowns) the loop keeps in flight at once, fleet-wide.
    public var maxConcurrentPushes: Int = 16
    /// The deadline of a push.
    public var pushTimeout: Duration = .seconds(600)
    /// How long, after a successful push, reports that do not show its outcome yet are taken as sent before it
    /// (still queued behind a busy master) rather than as a new problem; the first report that shows it ends the
    /// wait.
    public var settle: Duration = .seconds(30)

    public init() {}

    /// The wait after `attempts` pushes that did not bring the agent in sync: 0, then backoff × 2^(attempts − 1),
    /// at most ``backoffMax``.
    public func backoff(after attempts: Int) -> Duration {
        guard attempts > 0 else { return .zero }
        var wait = backoff
        for _ in 1..<min(attempts, 40) {
            wait *= 2
            if wait >= backoffMax { return backoffMax }
        }
        return min(wait, backoffMax)
    }
}

/// What the master wants an agent to run: a topology (id and the hash of exactly what is pushed), or none.
public enum DesiredTarget: Sendable, Hashable {
    case topology(id: String, versionHash: String)
    case none
}

/// What an agent reports, as far as reconciling goes: from its latest hello or heartbeat.
public struct ReportedState: Sendable, Hashable {
    /// Requests can be sent to it now.
    public var connected: Bool
    public var topologyID: String?
    public var appliedVersionHash: String?
    /// Its drift shows missing bridges, missing containers or stopped containers (what a re-apply restores).
    public var drifting: Bool
    /// Its heartbeat shows a request running.
    public var busy: Bool

    public init(connected: Bool, topologyID: String?, appliedVersionHash: String?, drifting: Bool, busy: Bool) {
        self.connected = connected
        self.topologyID = topologyID
        self.appliedVersionHash = appliedVersionHash
        self.drifting = drifting
        self.busy = busy
    }
}

/// What a successful push should make the agent report.
public enum ReconcileExpectation: Sendable, Hashable {
    case applied(topologyID: String, versionHash: String)
    case gone(topologyID: String)

    /// Whether `reported` shows it.
    public func isMet(by reported: ReportedState) -> Bool {
        switch self {
        case .applied(let id, let hash): reported.topologyID == id && reported.appliedVersionHash == hash
        case .gone(let id): reported.topologyID != id
        }
    }
}

/// Why an agent is not in sync, or why the loop waits.
public enum ReconcileReason: String, Sendable, Hashable {
    /// A push succeeded and no report has shown its outcome yet (reports sent before it may still be queued).
    case awaitingReport = "awaiting_report"
    case hashMismatch = "hash_mismatch"
    case nothingApplied = "nothing_applied"
    case drift
    case teardownDue = "teardown_due"
    case foreignTopology = "foreign_topology"
    case disconnected
    case agentBusy = "agent_busy"
    case requestInFlight = "request_in_flight"
    case concurrencyCap = "concurrency_cap"
}

/// One agent's reconcile history: what the loop did and saw. Changed only through the decision's functions.
public struct ReconcileHistory<Instant: InstantProtocol & Sendable>: Sendable where Instant.Duration == Duration {
    public var paused = false
    /// Pushes since the agent was last seen in sync; sets the back-off.
    public var attempts = 0
    public var lastError: String?
    /// No push before this instant.
    public var retryAt: Instant?
    /// Consecutive heartbeats that showed drift on the desired topology.
    public var driftHeartbeats = 0
    /// The push in flight.
    public var inFlight: String?
    /// Pushes started since the master started.
    public var pushes = 0
    /// What the last successful push should make the agent report, and until when to wait for a report showing it.
    public var expecting: ReconcileExpectation?
    public var expectingUntil: Instant?

    public init() {}
}

/// The verdict for one agent at one instant.
public enum ReconcileVerdict<Instant: InstantProtocol & Sendable>: Sendable, Equatable
where Instant.Duration == Duration {
    /// No desired state: the master only relays what operators ask.
    case unmanaged
    case paused
    /// A push of ours is in flight.
    case pushing(requestID: String)
    case inSync
    /// Not in sync, or in sync only once the wait ends; nothing to do now.
    case wait(ReconcileReason)
    /// A push is due but the last one failed or did not converge: not before `until`.
    case backingOff(ReconcileReason, until: Instant)
    /// Apply the desired topology now (a new request id); `supersede` when another topology of ours is applied.
    case apply(ReconcileReason, supersede: Bool)
    /// Tear down `topologyID` now: the desired state is none and the master applied it there.
    case teardown(topologyID: String)

    /// Whether the verdict starts a request.
    public var startsRequest: Bool {
        switch self {
        case .apply, .teardown: true
        default: false
        }
    }
}

/// The reconcile decision: a pure function of the desired state, the agent's report and its history, plus the
/// history's updates; time comes only from the injected clock. The master's core carries out its verdicts
/// (docs/control-channel.md#reconcile).
public struct ReconcileDecision<C: Clock>: Sendable where C.Duration == Duration, C.Instant: Sendable {
    public typealias History = ReconcileHistory<C.Instant>
    public typealias Verdict = ReconcileVerdict<C.Instant>

    public let clock: C
    public var settings: ReconcileSettings

    public init(clock: C, settings: ReconcileSettings = ReconcileSettings()) {
        self.clock = clock
        self.settings = settings
    }

    /// What to do about one agent now.
    ///
    /// - Parameters:
    ///   - desired: `nil` when the master keeps no desired state for the agent.
    ///   - reported: `nil` before the agent was heard since the master started.
    ///   - appliedHere: the topologies the master sent an apply for to this agent.
    ///   - requestInFlight: an apply or teardown for the agent is outstanding at the master (any origin).
    ///   - capacity: the fleet-wide cap of concurrent pushes leaves room for one more.
    public func decide(
        desired: DesiredTarget?,
        reported: ReportedState?,
        history: History,
        appliedHere: Set<String>,
        requestInFlight: Bool,
        capacity: Bool
    ) -> Verdict {
        guard let desired else { return .unmanaged }
        if history.paused { return .paused }
        if let id = history.inFlight { return .pushing(requestID: id) }
        guard let reported else { return .wait(.disconnected) }
        let due: Verdict
        switch need(desired: desired, reported: reported, history: history, appliedHere: appliedHere) {
        case .inSync: return .inSync
        case .wait(let reason): return .wait(reason)
        case let other: due = other
        }
        let reason: ReconcileReason
        switch due {
        case .apply(let why, _): reason = why
        default: reason = .teardownDue
        }
        guard reported.connected else { return .wait(.disconnected) }
        if reported.busy { return .wait(.agentBusy) }
        if requestInFlight { return .wait(.requestInFlight) }
        if let expecting = history.expecting, let until = history.expectingUntil, clock.now < until,
            !expecting.isMet(by: reported)
        {
            return .wait(.awaitingReport)
        }
        if let retryAt = history.retryAt, clock.now < retryAt { return .backingOff(reason, until: retryAt) }
        guard capacity else { return .wait(.concurrencyCap) }
        return due
    }

    /// Whether the report matches the desired state, and what would bring it there (ignoring timing and capacity).
    func need(desired: DesiredTarget, reported: ReportedState, history: History, appliedHere: Set<String>) -> Verdict {
        switch desired {
        case .none:
            guard let applied = reported.topologyID else { return .inSync }
            return appliedHere.contains(applied) ? .teardown(topologyID: applied) : .wait(.foreignTopology)
        case .topology(let id, let hash):
            guard let applied = reported.topologyID else { return .apply(.nothingApplied, supersede: false) }
            if applied != id {
                // Another topology: replaced only when it is one of ours; a foreign one is never touched.
                return appliedHere.contains(applied) ? .apply(.hashMismatch, supersede: true) : .wait(.foreignTopology)
            }
            if reported.appliedVersionHash != hash { return .apply(.hashMismatch, supersede: false) }
            guard reported.drifting else { return .inSync }
            return history.driftHeartbeats > settings.driftHeartbeats
                ? .apply(.drift, supersede: false) : .wait(.drift)
        }
    }

    // MARK: history updates

    /// A heartbeat (`heartbeat` true) or hello arrived with `reported`: counts consecutive heartbeats that show
    /// drift on the desired topology, and resets the back-off when the agent is in sync.
    public func observed(_ reported: ReportedState, heartbeat: Bool, desired: DesiredTarget?, history: inout History) {
        let onDesired: Bool
        if case .topology(let id, let hash)? = desired {
            onDesired = reported.topologyID == id && reported.appliedVersionHash == hash
        } else {
            onDesired = false
        }
        if let expecting = history.expecting, expecting.isMet(by: reported) {
            history.expecting = nil
            history.expectingUntil = nil
        }
        if onDesired && reported.drifting {
            if heartbeat { history.driftHeartbeats += 1 }
        } else {
            history.driftHeartbeats = 0
        }
        if let desired, history.inFlight == nil,
            need(desired: desired, reported: reported, history: history, appliedHere: []) == .inSync
        {
            settled(history: &history)
        }
    }

    /// The agent was found in sync (by ``observed(_:heartbeat:desired:history:)`` or a verdict): the back-off and
    /// the last error are over.
    public func settled(history: inout History) {
        history.attempts = 0
        history.lastError = nil
        history.retryAt = nil
    }

    /// A push (apply or teardown) with `requestID` was started: by the loop (`byLoop`, counted in ``History/pushes``),
    /// or by an operator's desire.
    public func started(_ requestID: String, byLoop: Bool = true, history: inout History) {
        history.inFlight = requestID
        history.attempts += 1
        if byLoop { history.pushes += 1 }
        history.driftHeartbeats = 0
    }

    /// A request that changes the agent ended: `error` is nil on success, else why it failed. Whatever the outcome,
    /// the next push waits for the back-off of the attempts so far (a success that does not bring the agent in sync
    /// counts too, so nothing loops).
    ///
    /// A success with an `expecting` makes the loop wait (``ReconcileSettings/settle`` at most) for a report that
    /// shows it before it believes one that does not: under load, heartbeats sent before the push ended can arrive
    /// after its result. A `current` report that already shows it (it came before the result) needs no wait.
    public func finished(
        _ requestID: String,
        error: String?,
        expecting: ReconcileExpectation? = nil,
        current: ReportedState? = nil,
        history: inout History
    ) {
        if history.inFlight == requestID { history.inFlight = nil }
        history.lastError = error
        let shown = expecting.map { expected in current.map { expected.isMet(by: $0) } ?? false } ?? true
        history.expecting = error == nil && !shown ? expecting : nil
        history.expectingUntil = history.expecting == nil ? nil : clock.now.advanced(by: settings.settle)
        history.retryAt = clock.now.advanced(by: settings.backoff(after: max(history.attempts, 1)))
    }

    /// The operator recorded a new desired state: a fresh start.
    public func desiredChanged(history: inout History) {
        history.attempts = 0
        history.lastError = nil
        history.retryAt = nil
        history.driftHeartbeats = 0
    }

    /// `pause` / `resume`; resuming resets the back-off.
    public func setPaused(_ paused: Bool, history: inout History) {
        history.paused = paused
        if !paused {
            history.attempts = 0
            history.retryAt = nil
        }
    }
}
