/// What the agent needs from a container engine to make a composed topology real, undo it, and watch it.
///
/// The Docker implementation lives in `DockerEngine`; an in-memory double serves fast tests of the agent's logic.
/// Everything is found by the `decnet.topology.id` label, so teardown and observation work without the store.
public protocol TopologyRuntime: Sendable {
    /// Creates or updates the plan's bridges and containers (`docker compose up --build -d --always-recreate-deps`
    /// semantics). With `wasApplied == false` a failure removes what this call created; otherwise what runs is left.
    func materialise(
        _ plan: ComposePlan,
        wasApplied: Bool,
        progress: @escaping @Sendable (RuntimeProgress) -> Void
    ) async throws(RuntimeFailure) -> MaterialiseReport

    /// Stops and removes every container and bridge labelled with `topologyID` (dependants first, then bridges in
    /// `teardownOrder` when given). Idempotent; never touches objects without that label.
    func teardown(
        topologyID: String,
        teardownOrder: [String],
        progress: @escaping @Sendable (RuntimeProgress) -> Void
    ) async throws(RuntimeFailure) -> TeardownReport

    /// The bridges and containers labelled with `topologyID` (any topology id when nil) as the engine has them now.
    /// Cheap: implementations keep it current from the engine's event stream rather than asking on every call.
    func observe(topologyID: String?) async -> Observation

    /// Host ports published by containers labelled with any of `topologyIDs` (a re-apply does not conflict with the
    /// ports its own containers hold).
    func publishedHostPorts(topologyIDs: [String]) async throws(RuntimeFailure) -> Set<HostPort>
}

/// A step of materialise or teardown, forwarded to the master as `progress`.
public struct RuntimeProgress: Sendable, Equatable {
    public enum Phase: String, Sendable {
        case networks, images, containers, teardown
    }

    public var phase: Phase
    public var done: Int
    public var total: Int
    public var message: String

    public init(phase: Phase, done: Int, total: Int, message: String) {
        self.phase = phase
        self.done = done
        self.total = total
        self.message = message
    }
}

public struct MaterialiseReport: Sendable, Equatable {
    /// Names of containers created or recreated, and of bridges created (reused ones are not listed).
    public var createdContainers: [String]
    public var recreatedContainers: [String]
    public var unchangedContainers: [String]
    public var createdBridges: [String]

    public init(
        createdContainers: [String] = [],
        recreatedContainers: [String] = [],
        unchangedContainers: [String] = [],
        createdBridges: [String] = []
    ) {
        self.createdContainers = createdContainers
        self.recreatedContainers = recreatedContainers
        self.unchangedContainers = unchangedContainers
        self.createdBridges = createdBridges
    }
}

public struct TeardownReport: Sendable, Equatable {
    public var removedContainers: [String]
    public var removedBridges: [String]

    public init(removedContainers: [String] = [], removedBridges: [String] = []) {
        self.removedContainers = removedContainers
        self.removedBridges = removedBridges
    }
}

/// What the engine runs for one topology, or why it could not be asked.
public struct Observation: Sendable, Equatable {
    public struct Container: Sendable, Equatable {
        public var name: String
        public var running: Bool
        public init(name: String, running: Bool) {
            self.name = name
            self.running = running
        }
    }

    public var bridges: [String]
    public var containers: [Container]
    /// Set when the engine could not be asked (at most 200 characters); the lists are then empty.
    public var error: String?

    public init(bridges: [String] = [], containers: [Container] = [], error: String? = nil) {
        self.bridges = bridges
        self.containers = containers
        self.error = error.map { String($0.prefix(200)) }
    }
}

/// Why the runtime failed. `kind` maps to the wire's `docker_unavailable` or `runtime_error`.
public struct RuntimeFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The engine cannot be reached.
        case unavailable
        /// The engine refused or failed an operation.
        case failed
    }

    public var kind: Kind
    /// `networks`, `images`, `containers`, `teardown` or `observe`.
    public var phase: String
    public var message: String
    /// The engine's own error message, verbatim.
    public var engineMessage: String?

    public init(_ kind: Kind, phase: String, _ message: String, engineMessage: String? = nil) {
        self.kind = kind
        self.phase = phase
        self.message = message
        self.engineMessage = engineMessage
    }

    public var description: String { "\(phase): \(message)" }
}
