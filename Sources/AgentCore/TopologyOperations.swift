import AgentProtocol
import AgentStore
import DecnetJSON
import Logging
import Synchronization
import Topology

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The agent's three topology operations: apply, teardown and state (DECNET's topology_ops, with this project's
/// deviations). One apply or teardown at a time is the dispatcher's job; `state` may run alongside.
public final class TopologyOperations: Sendable {
    public typealias Progress = @Sendable (Phase, Int, Int, String) -> Void

    let settings: AgentSettings
    let store: StoreExecutor
    let runtime: any TopologyRuntime
    let preflight: PortPreflight
    let now: @Sendable () -> Int64
    /// Notices a state directory deleted or replaced under the agent (nil: not watched, as in one-shot commands).
    let stateGuard: StateDirectoryGuard?
    /// What an operation could not do and did not report in its result (warning, with the request's and topology's
    /// ids: docs/architecture.md#logs).
    let logger: Logger
    let planCache = PlanCache()
    let stateCache = StateCache()

    /// A logger that drops everything: the default for tests and tools.
    public static let silentLogger = Logger(label: "decnet.agent.operations") { _ in SwiftLogNoOpLogHandler() }

    public init(
        settings: AgentSettings,
        store: StoreExecutor,
        runtime: any TopologyRuntime,
        preflight: PortPreflight = PortPreflight(),
        now: @escaping @Sendable () -> Int64 = TopologyStore.unixTime,
        stateGuard: StateDirectoryGuard? = nil,
        logger: Logger = silentLogger
    ) {
        self.stateGuard = stateGuard
        self.settings = settings
        self.store = store
        self.runtime = runtime
        self.preflight = preflight
        self.now = now
        self.logger = logger
    }

    // MARK: teardown

    /// Removes everything labelled with `topologyID`, the compose file, and the store rows of that topology.
    /// Idempotent, and works with a lost or wiped store (docs/deviations.md#teardown-by-label). `requestID` only
    /// labels the log lines.
    public func teardown(
        topologyID: String,
        requestID: String? = nil,
        progress: @escaping Progress
    ) async -> Result<JSONValue, AgentError> {
        if let refusal = await stateDirectoryRefusal() { return .failure(refusal) }
        let logger = self.logger(requestID: requestID, topologyID: topologyID)
        // The stored blob, when it is this topology, gives the seed's bridge order (leaf LANs first).
        var applied: AppliedTopology?
        do {
            applied = try await store.run { try $0.current() }
        } catch {
            logger.warning("cannot read the store; tearing down by label alone", metadata: ["error": "\(error)"])
        }
        var order: [String] = []
        // A stored topology the current catalog cannot compose is torn down by label alone, networks by name.
        if let applied, applied.topologyID == topologyID, let plan = try? storedPlan(applied) {
            order = plan.teardownOrder
        }
        let report: TeardownReport
        do throws(RuntimeFailure) {
            report = try await runtime.teardown(topologyID: topologyID, teardownOrder: order) { p in
                progress(.teardown, p.done, p.total, p.message)
            }
        } catch {
            return .failure(Self.agentError(error))
        }
        removeComposeFiles(topologyID: topologyID)
        do {
            _ = try await store.write { store in
                let removed = try store.clear(topologyID: topologyID)
                if let attempt = try store.lastAttempt(), attempt.topologyID == topologyID {
                    _ = try store.clearAttempt()
                }
                return removed
            }
        } catch {
            return .failure(
                AgentError(
                    .internal,
                    "removed the topology's containers and bridges but could not update the store: \(error)",
                    details: ["phase": "record"]
                )
            )
        }
        progress(.record, 1, 1, "torn down")
        let removed: JSONValue = [
            "containers": JSONValue(report.removedContainers.sorted()),
            "bridges": JSONValue(report.removedBridges.sorted()),
        ]
        return .success([
            "status": "torn_down", "topology_id": .string(JSONString(topologyID)), "removed": removed,
        ])
    }

    // MARK: state

    /// The state object (docs/wire-protocol.md#state): the cache plus what the engine really runs, and the drift
    /// between them.
    public func agentState() async -> AgentState { await currentState().state }

    /// ``agentState()`` as a JSON value, built once per change (embedded in hello and heartbeats).
    public func state() async -> JSONValue { await currentState().value }

    /// The state object as compact JSON bytes, encoded once per change (the `state` request's hot path).
    public func encodedState() async -> [UInt8] { await currentState().encoded }

    func currentState() async -> StateCache.Built {
        // The store is read once per write generation, and the whole object is rebuilt only when the store or the
        // observation changed: `state` is asked far more often than either changes.
        let stateDirectoryProblem = await self.stateDirectoryProblem()
        let generation = store.generation
        let snapshot: StateCache.Snapshot
        if let cached = stateCache.snapshot(generation: generation) {
            snapshot = cached
        } else {
            do {
                let (applied, attempt) = try await store.run { try $0.snapshot() }
                snapshot = StateCache.Snapshot(applied: applied, attempt: attempt, storeError: nil)
                stateCache.remember(snapshot, generation: generation)
            } catch {
                snapshot = StateCache.Snapshot(applied: nil, attempt: nil, storeError: "store unreadable: \(error)")
            }
        }
        let observeID = snapshot.applied?.topologyID ?? snapshot.attempt?.topologyID
        let observation = await runtime.observe(topologyID: observeID)
        if stateDirectoryProblem == nil, let cached = stateCache.state(generation: generation, observation: observation)
        {
            return cached
        }
        var state = buildState(snapshot, observation)
        state.stateDirectoryError = stateDirectoryProblem.map { String($0.prefix(300)) }
        let value = state.jsonValue
        let built = StateCache.Built(state: state, value: value, encoded: PythonJSONEncoder().encode(value))
        if snapshot.storeError == nil && stateDirectoryProblem == nil {
            stateCache.remember(built, generation: generation, observation: observation)
        }
        return built
    }

    func buildState(_ snapshot: StateCache.Snapshot, _ observation: Observation) -> AgentState {
        let applied = snapshot.applied
        let observed: AgentState.Observed
        let drift: AgentState.Drift?
        if let error = observation.error {
            observed = .error(error)
            drift = nil
        } else {
            observed = .objects(
                bridges: observation.bridges.sorted { JSONString($0) < JSONString($1) },
                containers: observation.containers.filter(\.running).map(\.name).sorted {
                    JSONString($0) < JSONString($1)
                }
            )
            // A stored topology that cannot be composed has no expected objects: drift lists only what runs.
            let expected = applied.flatMap { try? storedPlan($0) }
            let found = Drift(expected: expected, observed: observation)
            drift = AgentState.Drift(
                missingBridges: found.missingBridges,
                missingContainers: found.missingContainers,
                stoppedContainers: found.stoppedContainers,
                unexpectedContainers: found.unexpectedContainers
            )
        }
        return AgentState(
            topologyID: applied?.topologyID,
            appliedVersionHash: applied?.versionHash,
            appliedAt: applied?.appliedAt,
            lastError: applied?.lastError ?? snapshot.storeError,
            attempt: snapshot.attempt.map {
                AgentState.Attempt(topologyID: $0.topologyID, versionHash: $0.versionHash, at: $0.at, error: $0.error)
            },
            observed: observed,
            drift: drift
        )
    }

    // MARK: helpers

    /// The operations' logger with the ids of the request and topology at hand.
    func logger(requestID: String?, topologyID: String?) -> Logger {
        var logger = self.logger
        if let requestID { logger[metadataKey: "request_id"] = "\(requestID)" }
        if let topologyID { logger[metadataKey: "topology_id"] = "\(topologyID)" }
        return logger
    }

    /// Why the state directory cannot be used (after trying to take it back), or nil.
    func stateDirectoryProblem() async -> String? {
        guard let stateGuard, stateGuard.check() != nil else { return nil }
        return await stateGuard.recover { try await self.store.reopen(path: $0) }
    }

    /// `state_unavailable` while the state directory is lost: nothing an apply or teardown did could be recorded.
    func stateDirectoryRefusal() async -> AgentError? {
        guard let problem = await stateDirectoryProblem() else { return nil }
        return AgentError(.stateUnavailable, problem, details: ["phase": "verify"])
    }

    /// The compose plan of a stored topology, cached by its hash.
    func storedPlan(_ applied: AppliedTopology) throws(ComposeError) -> ComposePlan {
        if let cached = planCache.get(applied.versionHash) { return cached }
        let plan = try settings.composer.compose(applied.hydrated).mergingDuplicatePorts()
        planCache.set(applied.versionHash, plan)
        return plan
    }

    func composeFilePath(_ plan: ComposePlan) -> String {
        settings.topologiesDirectory + "/" + plan.composeFileName
    }

    /// Writes the compose document for operators (`docker compose -p decnet-topo-<id8> ps`), atomically.
    func writeComposeFile(_ plan: ComposePlan) throws {
        let fm = FileManager.default
        try fm.createDirectory(
            atPath: settings.topologiesDirectory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o750]
        )
        let data = Data(ComposeYAML.render(plan.document).utf8)
        let url = URL(fileURLWithPath: composeFilePath(plan))
        try data.write(to: url, options: .atomic)
        try fm.setAttributes([.posixPermissions: 0o640], ofItemAtPath: url.path)
    }

    func removeComposeFiles(topologyID: String) {
        let path = settings.topologiesDirectory + "/" + TopologyNaming(topologyID: topologyID).composeFileName
        try? FileManager.default.removeItem(atPath: path)  // often not there: expected
    }

    static func agentError(_ failure: RuntimeFailure) -> AgentError {
        var details: JSONObject = ["phase": .string(JSONString(failure.phase))]
        details["docker"] = failure.engineMessage.map { .string(JSONString($0)) } ?? .null
        switch failure.kind {
        case .unavailable:
            return AgentError(
                .dockerUnavailable,
                "the Docker Engine cannot be reached: \(failure.message)",
                details: details
            )
        case .failed:
            return AgentError(.runtimeError, failure.message, details: details)
        }
    }
}

/// The last store snapshot and state object, keyed by the store's write generation and the observation.
final class StateCache: Sendable {
    struct Snapshot: Sendable {
        var applied: AppliedTopology?
        var attempt: ApplyAttempt?
        var storeError: String?
    }

    /// One state object, typed, as a JSON value and encoded: each made once per change.
    struct Built: Sendable {
        var state: AgentState
        var value: JSONValue
        var encoded: [UInt8]
    }

    private struct Entries {
        var snapshot: (generation: Int, value: Snapshot)?
        var state: (generation: Int, observation: Observation, value: Built)?
    }

    private let entries = Mutex(Entries())

    func snapshot(generation: Int) -> Snapshot? {
        entries.withLock { e in e.snapshot.flatMap { $0.generation == generation ? $0.value : nil } }
    }

    func remember(_ snapshot: Snapshot, generation: Int) {
        entries.withLock { $0.snapshot = (generation, snapshot) }
    }

    func state(generation: Int, observation: Observation) -> Built? {
        entries.withLock { e in
            guard let s = e.state, s.generation == generation, s.observation == observation else { return nil }
            return s.value
        }
    }

    func remember(_ state: Built, generation: Int, observation: Observation) {
        entries.withLock { $0.state = (generation, observation, state) }
    }
}

/// A one-entry cache of the plan composed from the applied topology (state and heartbeats ask for it often).
final class PlanCache: Sendable {
    private let entry = Mutex<(String, ComposePlan)?>(nil)

    func get(_ hash: String) -> ComposePlan? {
        entry.withLock { e in e.flatMap { $0.0 == hash ? $0.1 : nil } }
    }

    func set(_ hash: String, _ plan: ComposePlan) {
        entry.withLock { $0 = (hash, plan) }
    }
}
