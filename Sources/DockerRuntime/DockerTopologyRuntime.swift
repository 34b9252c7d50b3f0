import DecnetJSON
import DockerEngine
import Logging
import Topology

/// The `TopologyRuntime` that drives a real Docker Engine over its unix socket, with the semantics of
/// `docker compose up --build -d --always-recreate-deps` for everything the composer emits
/// (docs/deviations.md#engine-api).
///
/// Everything it makes carries the `decnet.topology.id` label; teardown and observation find objects by that label
/// only, and objects without it are never changed. Call ``run()`` from the daemon's task group to keep
/// ``observe(topologyID:)`` current from Docker's events; without it every observation asks Docker directly.
public final class DockerTopologyRuntime: TopologyRuntime {
    /// The Engine client; the caller owns it and shuts it down after the runtime.
    public let client: DockerClient
    public let configuration: Configuration
    /// The event-driven cache behind ``observe(topologyID:)``.
    public let observer: TopologyObserver
    /// Retries (notice) and what a best-effort step could not do (warning), docs/architecture.md#logs.
    public let logger: Logger

    /// A logger that drops everything: the default for tests and tools.
    public static let silentLogger = Logger(label: "decnet.agent.docker") { _ in SwiftLogNoOpLogHandler() }

    public init(client: DockerClient, configuration: Configuration, logger: Logger = silentLogger) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        self.observer = TopologyObserver(client: client, configuration: configuration, logger: logger)
    }

    /// Keeps the observation cache current until the task is cancelled or ``shutdown()`` is called.
    public func run() async {
        await observer.run()
    }

    /// Makes ``run()`` return.
    public func shutdown() {
        observer.shutdown()
    }

    public func materialise(
        _ plan: ComposePlan,
        wasApplied: Bool,
        progress: @escaping @Sendable (RuntimeProgress) -> Void
    ) async throws(RuntimeFailure) -> MaterialiseReport {
        try await ensureReachable(phase: "networks")
        let ledger = MaterialiseLedger()
        do throws(RuntimeFailure) {
            let inventory = try await RuntimeInventory.load(self)
            try inventory.checkOwnership(plan)
            let detached = try await reconcileBridges(plan, inventory: inventory, ledger: ledger, progress: progress)
            let images = try await resolveImages(plan, progress: progress)
            try await reconcileContainers(
                plan,
                inventory: inventory,
                images: images,
                detached: detached,
                ledger: ledger,
                progress: progress
            )
            await removeStaleBridges(plan)
            return ledger.report
        } catch {
            if !wasApplied { await rollBack(ledger, topologyID: plan.topologyID) }
            throw error
        }
    }

    public func teardown(
        topologyID: String,
        teardownOrder: [String],
        progress: @escaping @Sendable (RuntimeProgress) -> Void
    ) async throws(RuntimeFailure) -> TeardownReport {
        try await ensureReachable(phase: "teardown")
        return try await removeTopology(topologyID, teardownOrder: teardownOrder, progress: progress)
    }

    public func observe(topologyID: String?) async -> Observation {
        await observer.observe(topologyID: topologyID)
    }

    public func publishedHostPorts(topologyIDs: [String]) async throws(RuntimeFailure) -> Set<HostPort> {
        try await ensureReachable(phase: "observe")
        let wanted = Set(topologyIDs.map { JSONString($0) })
        let running = try await step("list running containers", phase: "observe") { () async throws(DockerError) in
            try await self.client.listContainers(all: false, filters: .label(RuntimeLabels.topologyID))
        }
        var ports = Set<HostPort>()
        for container in running {
            guard let owner = container.labels[RuntimeLabels.topologyID], wanted.contains(JSONString(owner)) else {
                continue
            }
            for entry in container.raw["Ports"]?.arrayValue ?? [] {
                guard let published = entry["PublicPort"]?.intValue, published > 0 else { continue }
                let proto = PortProtocol(rawValue: entry["Type"]?.stringValue ?? "tcp") ?? .tcp
                ports.insert(HostPort(published, proto))
            }
        }
        return ports
    }

    /// Fails with `unavailable` at once when nothing answers on the socket, instead of retrying for 15 s.
    func ensureReachable(phase: String) async throws(RuntimeFailure) {
        do {
            _ = try await client.ping()
        } catch {
            let kind: RuntimeFailure.Kind =
                error.code == .unavailable || error.code == .timeout ? .unavailable : .failed
            throw RuntimeFailure(
                kind,
                phase: phase,
                "the Docker Engine does not answer on \(client.configuration.socketPath): \(error.message)",
                engineMessage: error.message
            )
        }
    }

    /// Runs one Docker operation under the retry policy; every retry is logged at notice, then handed to the
    /// configuration's `onRetry`.
    func retrying<T>(_ operation: String, _ body: () async throws(DockerError) -> T) async throws(DockerError) -> T {
        let logger = self.logger
        let onRetry = configuration.onRetry
        return try await configuration.retry.run(
            operation,
            onRetry: { retry in
                logger.notice(
                    "retrying a Docker operation",
                    metadata: [
                        "operation": "\(retry.operation)", "attempt": "\(retry.attempt)", "delay": "\(retry.delay)",
                        "error": "\(String(describing: retry.error).prefix(500))",
                    ]
                )
                onRetry?(retry)
            },
            body
        )
    }

    /// Runs one Docker operation under the retry policy; a failure becomes a `RuntimeFailure` saying what could not
    /// be done, with Docker's message.
    func step<T>(
        _ what: String,
        phase: String,
        _ body: () async throws(DockerError) -> T
    ) async throws(RuntimeFailure)
        -> T
    {
        do {
            return try await retrying(what, body)
        } catch {
            throw RuntimeFailure.docker(error, phase: phase, "cannot \(what)")
        }
    }

    /// Undoes a failed first apply: removes the containers, then the networks, this call created. Best effort:
    /// what it cannot remove is logged at warning.
    func rollBack(_ ledger: MaterialiseLedger, topologyID: String) async {
        // One attempt per object and no retry policy: the apply has already failed, and when the failure was the
        // daemon going away every removal would otherwise wait out the full back-off (minutes for a large
        // topology). What cannot be removed now is labelled and found by the next apply or teardown.
        let created = ledger.createdObjects
        func left(_ kind: String, _ name: String, _ error: DockerError) {
            let message: Logger.Message =
                error.code == .unavailable
                ? "roll-back of a failed apply stopped: Docker is unavailable"
                : "roll-back of a failed apply left an object behind"
            logger.warning(
                message,
                metadata: [
                    "topology_id": "\(topologyID)", kind: "\(name)",
                    "error": "\(String(describing: error).prefix(500))",
                ]
            )
        }
        for container in created.containers {
            do {
                try await ignoringNotFound { () async throws(DockerError) in
                    try await self.client.removeContainer(container.id, force: true, volumes: true)
                }
            } catch  where error.code == .unavailable {
                left("container", container.name, error)
                return
            } catch {
                left("container", container.name, error)
                continue
            }
        }
        for network in created.networks {
            do {
                try await ignoringNotFound { () async throws(DockerError) in
                    try await self.client.removeNetwork(network.id)
                }
            } catch  where error.code == .unavailable {
                left("network", network.name, error)
                return
            } catch {
                left("network", network.name, error)
                continue
            }
        }
    }
}
