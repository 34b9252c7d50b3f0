import Synchronization
import Topology

/// An in-memory `TopologyRuntime`: bridges and containers in dictionaries, found by topology id like the real one.
/// For fast tests of the agent's logic; the Docker tests are the proof.
public final class InMemoryRuntime: TopologyRuntime {
    public struct Container: Sendable, Equatable {
        public var name: String
        public var topologyID: String
        public var running: Bool
        public var spec: ContainerSpec
        public var generation: Int

        public init(name: String, topologyID: String, running: Bool, spec: ContainerSpec, generation: Int) {
            self.name = name
            self.topologyID = topologyID
            self.running = running
            self.spec = spec
            self.generation = generation
        }
    }

    public struct State: Sendable {
        public var bridges: [String: String] = [:]  // name → topology id
        public var containers: [String: Container] = [:]
        public var calls: [String] = []
        public var generation = 0
        /// Fail the next materialise in this phase ("networks", "images", "containers") or teardown.
        public var failPhase: String?
        public var unavailable = false
        public var foreignPorts: Set<HostPort> = []
    }

    public let state = Mutex(State())
    /// When set, materialise waits here after its first step until the test opens the gate.
    public let gate = Gate()

    public init() {}

    public func update<T>(_ body: (inout State) -> T) -> T { state.withLock { body(&$0) } }

    public var calls: [String] { state.withLock { $0.calls } }

    public func materialise(
        _ plan: ComposePlan,
        wasApplied: Bool,
        progress: @escaping @Sendable (RuntimeProgress) -> Void
    ) async throws(RuntimeFailure) -> MaterialiseReport {
        try check("materialise \(plan.topologyID)")
        progress(RuntimeProgress(phase: .networks, done: 0, total: plan.bridges.count, message: "bridges"))
        await gate.wait()
        var created: [String] = []
        var createdContainers: [String] = []
        var recreated: [String] = []
        var unchanged: [String] = []
        let failure: RuntimeFailure? = state.withLock { s in
            for b in plan.bridges where s.bridges[b.name] == nil {
                if s.failPhase == "networks" {
                    return RuntimeFailure(.failed, phase: "networks", "boom", engineMessage: "boom")
                }
                s.bridges[b.name] = plan.topologyID
                created.append(b.name)
            }
            if s.failPhase == "images" {
                return RuntimeFailure(.failed, phase: "images", "no such image", engineMessage: "No such image: x")
            }
            s.generation += 1
            for c in plan.containers {
                if s.failPhase == "containers" {
                    return RuntimeFailure(.failed, phase: "containers", "cannot start", engineMessage: "oci error")
                }
                if let old = s.containers[c.containerName], old.spec == c, old.running {
                    unchanged.append(c.containerName)
                    continue
                }
                if s.containers[c.containerName] != nil {
                    recreated.append(c.containerName)
                } else {
                    createdContainers.append(c.containerName)
                }
                s.containers[c.containerName] = Container(
                    name: c.containerName,
                    topologyID: plan.topologyID,
                    running: true,
                    spec: c,
                    generation: s.generation
                )
            }
            return nil
        }
        if let failure {
            if !wasApplied {
                state.withLock { s in
                    for name in created { s.bridges[name] = nil }
                    for name in createdContainers { s.containers[name] = nil }
                }
            }
            throw failure
        }
        progress(
            RuntimeProgress(
                phase: .containers,
                done: plan.containers.count,
                total: plan.containers.count,
                message: "up"
            )
        )
        return MaterialiseReport(
            createdContainers: createdContainers,
            recreatedContainers: recreated,
            unchangedContainers: unchanged,
            createdBridges: created
        )
    }

    public func teardown(
        topologyID: String,
        teardownOrder: [String],
        progress: @escaping @Sendable (RuntimeProgress) -> Void
    ) async throws(RuntimeFailure) -> TeardownReport {
        try check("teardown \(topologyID)")
        if state.withLock({ $0.failPhase == "teardown" }) {
            throw RuntimeFailure(.failed, phase: "teardown", "cannot remove", engineMessage: "busy")
        }
        return state.withLock { s in
            let containers = s.containers.values.filter { $0.topologyID == topologyID }.map(\.name).sorted()
            for c in containers { s.containers[c] = nil }
            let bridges = s.bridges.filter { $0.value == topologyID }.map(\.key).sorted()
            for b in bridges { s.bridges[b] = nil }
            return TeardownReport(removedContainers: containers, removedBridges: bridges)
        }
    }

    public func observe(topologyID: String?) async -> Observation {
        state.withLock { s in
            if s.unavailable { return Observation(error: "Cannot connect to the Docker daemon") }
            let bridges = s.bridges.filter { topologyID == nil || $0.value == topologyID }.map(\.key).sorted()
            let containers = s.containers.values.filter { topologyID == nil || $0.topologyID == topologyID }
                .map { Observation.Container(name: $0.name, running: $0.running) }.sorted { $0.name < $1.name }
            return Observation(bridges: bridges, containers: containers)
        }
    }

    public func publishedHostPorts(topologyIDs: [String]) async throws(RuntimeFailure) -> Set<HostPort> {
        try check(nil)
        return state.withLock { s in
            var ports = Set<HostPort>()
            for c in s.containers.values where topologyIDs.contains(c.topologyID) && c.running {
                for p in c.spec.ports { ports.insert(HostPort(p.hostPort, p.proto)) }
            }
            return ports
        }
    }

    private func check(_ call: String?) throws(RuntimeFailure) {
        let unavailable = state.withLock { s -> Bool in
            if let call { s.calls.append(call) }
            return s.unavailable
        }
        if unavailable { throw RuntimeFailure(.unavailable, phase: "connect", "Cannot connect to the Docker daemon") }
    }
}

/// A gate a test closes to hold an operation in the middle, then opens.
public final class Gate: Sendable {
    private let state = Mutex<(closed: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    public init() {}

    public func close() { state.withLock { $0.closed = true } }

    public func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.closed = false
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    public func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let proceed = state.withLock { s -> Bool in
                if !s.closed { return true }
                s.waiters.append(c)
                return false
            }
            if proceed { c.resume() }
        }
    }
}
