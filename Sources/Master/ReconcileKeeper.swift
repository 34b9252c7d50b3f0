import AgentProtocol
import DecnetJSON
import MasterStore

/// What the master's core keeps for desired state and reconciling (docs/control-channel.md#desired-state): an
/// in-memory copy of the store (read at start, written through), the reconcile histories and the last verdicts.
struct ReconcileKeeper: Sendable {
    typealias Decision = ReconcileDecision<MillisClock>

    /// `nil` only for cores without a store (unit tests): then nothing survives the process.
    let store: MasterStore?
    var decision: Decision
    var desired: [String: DesiredRecord] = [:]
    var histories: [String: Decision.History] = [:]
    var appliedHere: [String: Set<String>] = [:]
    /// Agents known from the store (seen by an earlier master, or paused), until they speak.
    var stored: [String: SeenAgent] = [:]
    var verdicts: [String: Decision.Verdict] = [:]
    /// Requests of ours in flight (reconcile pushes and operator desires): they count against the cap only when
    /// the loop started them.
    var durable: [RequestKey: StoredRequest.Origin] = [:]
    /// What each apply or teardown of ours should make its agent report, until it ends.
    var expectations: [RequestKey: ReconcileExpectation] = [:]
    /// Agents whose reported state changed since the last write, and what was written last.
    var dirty: Set<String> = []
    var savedSignature: [String: ReportSignature] = [:]

    /// What of an agent's report is worth a write: a steady agent's heartbeats change none of it. Compared by
    /// value, built without formatting anything (it is looked at for every heartbeating agent on every tick).
    struct ReportSignature: Equatable {
        var topologyID: String?
        var appliedVersionHash: String?
        var drift: AgentRecord.DriftCounts?
    }
    /// Store writes that failed (logged; the next change tries again).
    var storeFailures = 0
    /// When (monotonic milliseconds) finished requests are trimmed next (docs/control-channel.md#master-store).
    var nextTrimAt: Int64?

    init(store: MasterStore?, decision: Decision) {
        self.store = store
        self.decision = decision
    }

    /// Reconcile pushes in flight, fleet-wide.
    var pushesInFlight: Int { durable.values.count { $0 == .reconcile } }

    func history(_ agentID: String) -> Decision.History { histories[agentID] ?? Decision.History() }

    // The decision's history updates, applied to one agent's history.

    mutating func observed(_ report: ReportedState, heartbeat: Bool, agentID: String) {
        let desired = target(agentID)
        decision.observed(
            report,
            heartbeat: heartbeat,
            desired: desired,
            history: &histories[agentID, default: .init()]
        )
    }

    mutating func settled(agentID: String) {
        guard histories[agentID]?.attempts != 0 || histories[agentID]?.retryAt != nil else { return }
        decision.settled(history: &histories[agentID, default: .init()])
    }

    mutating func started(
        _ requestID: String,
        agentID: String,
        byLoop: Bool = true,
        body: Request.Body? = nil
    ) {
        switch body {
        case .apply(let apply)?:
            if let id = apply.hydrated["topology"]?["id"]?.stringValue {
                expectations[RequestKey(agentID: agentID, requestID: requestID)] = .applied(
                    topologyID: id,
                    versionHash: apply.versionHash
                )
            }
        case .teardown(let id)?:
            expectations[RequestKey(agentID: agentID, requestID: requestID)] = .gone(topologyID: id)
        default: break
        }
        decision.started(requestID, byLoop: byLoop, history: &histories[agentID, default: .init()])
    }

    mutating func finished(_ requestID: String, agentID: String, error: String?, current: ReportedState? = nil) {
        let expecting = expectations.removeValue(forKey: RequestKey(agentID: agentID, requestID: requestID))
        decision.finished(
            requestID,
            error: error,
            expecting: expecting,
            current: current,
            history: &histories[agentID, default: .init()]
        )
    }

    mutating func desiredChanged(agentID: String) {
        decision.desiredChanged(history: &histories[agentID, default: .init()])
    }

    mutating func setPaused(_ paused: Bool, agentID: String) {
        decision.setPaused(paused, history: &histories[agentID, default: .init()])
    }

    /// The desired target of an agent, as the decision sees it.
    func target(_ agentID: String) -> DesiredTarget? {
        guard let record = desired[agentID] else { return nil }
        guard let topology = record.topology else { return DesiredTarget.none }
        return .topology(id: topology.id, versionHash: topology.versionHash)
    }

    /// Every agent worth listing: seen now, stored, desired or paused.
    func knownAgents(seen: some Sequence<String>) -> [String] {
        var all = Set(seen)
        all.formUnion(desired.keys)
        all.formUnion(stored.keys)
        all.formUnion(histories.filter { $0.value.paused }.keys)
        return all.sorted()
    }

    /// The `reconcile` member of the fleet view and of `desired`.
    func reconcileJSON(_ agentID: String, now: Int64) -> JSONValue {
        let history = history(agentID)
        var state = "unmanaged"
        var reason: ReconcileReason?
        var retryIn: Int64?
        var requestID: String?
        // Before the first tick decided: what the history alone says.
        let fallback: Decision.Verdict =
            desired[agentID] == nil
            ? .unmanaged
            : history.paused ? .paused : history.inFlight.map { .pushing(requestID: $0) } ?? .wait(.disconnected)
        switch verdicts[agentID] ?? fallback {
        case .unmanaged: state = history.paused ? "paused" : "unmanaged"
        case .paused: state = "paused"
        case .pushing(let id):
            state = "pushing"
            requestID = id
        case .inSync: state = "in_sync"
        case .wait(let why):
            state = "waiting"
            reason = why
        case .backingOff(let why, let until):
            state = "backing_off"
            reason = why
            retryIn = max(0, until.millis - now)
        case .apply(let why, _):
            state = "waiting"
            reason = why
        case .teardown:
            state = "waiting"
            reason = .teardownDue
        }
        return [
            "state": .string(JSONString(state)),
            "reason": reason.map { JSONValue($0.rawValue) } ?? .null,
            "attempts": JSONValue(history.attempts),
            "last_error": history.lastError.map { JSONValue($0) } ?? .null,
            "retry_in_ms": retryIn.map { .integer(JSONInteger($0)) } ?? .null,
            "request_id": requestID.map { JSONValue($0) } ?? .null,
            "drift_heartbeats": JSONValue(history.driftHeartbeats),
            "pushes": JSONValue(history.pushes),
        ]
    }

    /// The `desired` member of a `desired` entry.
    func desiredJSON(_ agentID: String) -> JSONValue {
        guard let record = desired[agentID] else { return .null }
        return [
            "topology_id": record.topology.map { JSONValue($0.id) } ?? .null,
            "version_hash": record.topology.map { JSONValue($0.versionHash) } ?? .null,
            "supersede": .bool(record.topology?.supersede ?? false),
            "request_id": JSONValue(record.requestID),
            "set_at": .integer(JSONInteger(record.setAt)),
        ]
    }
}
