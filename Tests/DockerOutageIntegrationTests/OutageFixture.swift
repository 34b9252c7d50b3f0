import AgentCore
import AgentProtocol
import AgentStore
import DecnetJSON
import DockerEngine
import DockerRuntime
import Foundation
import Synchronization
import Testing
import Topology

/// One test's world: a private daemon holding the busybox test image, an agent store in a temporary folder, and
/// `TopologyOperations` over the real `DockerTopologyRuntime` pointed at the private daemon's socket.
final class OutageFixture: Sendable {
    static let image = "decnet-test/busybox:latest"

    let daemon: PrivateDockerDaemon
    let directory: String
    let store: TopologyStore
    let client: DockerClient
    let runtime: DockerTopologyRuntime
    let operations: TopologyOperations

    private init(daemon: PrivateDockerDaemon, retry: RetryPolicy, containerConcurrency: Int) throws {
        self.daemon = daemon
        directory = daemon.root + "/agent"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try TopologyStore(path: directory + "/" + TopologyStore.fileName)
        client = DockerClient(
            configuration: .init(socketPath: daemon.socketPath, connectTimeout: .seconds(2), readTimeout: .seconds(20))
        )
        // A short reconnect backoff keeps the observer's recovery quick.
        runtime = DockerTopologyRuntime(
            client: client,
            configuration: .init(
                stateDirectory: directory,
                retry: retry,
                containerConcurrency: containerConcurrency,
                refreshDebounce: .milliseconds(50),
                reconnectBackoff: [.milliseconds(100), .milliseconds(250), .milliseconds(500)]
            )
        )
        let settings = AgentSettings(
            agentID: "outage",
            agentVersion: "test",
            bootID: UUID().uuidString.lowercased(),
            stateDirectory: directory,
            catalog: try Self.catalog(),
            templatesRoot: directory + "/templates",
            baseImage: Self.image
        )
        operations = TopologyOperations(settings: settings, store: StoreExecutor(store: store), runtime: runtime)
    }

    /// Retries of the tests unless they ask for the agent's own policy: short, so every test stays well under a
    /// minute.
    static let shortRetries = RetryPolicy(delays: [.milliseconds(200), .milliseconds(400)])

    /// A fixture with its daemon started and the test image loaded.
    static func make(retry: RetryPolicy, containerConcurrency: Int) async throws -> OutageFixture {
        let daemon = try PrivateDockerDaemon()
        do {
            try await daemon.start()
            try await daemon.load(image: image)
            return try OutageFixture(daemon: daemon, retry: retry, containerConcurrency: containerConcurrency)
        } catch {
            await daemon.destroy()
            throw error
        }
    }

    /// Two services on the busybox image, neither publishing anything: `web` (httpd) and `idle`.
    static func catalog() throws -> ServiceCatalog {
        try ServiceCatalog(json: [
            "catalog_version": 1,
            "services": [
                "web": [
                    "image": JSONValue(image), "container_suffix": "web", "tcp_ports": [8080],
                    "command": ["httpd", "-f", "-p", "8080", "-h", "/"],
                ],
                "idle": ["image": JSONValue(image), "container_suffix": "idle", "command": ["sleep", "infinity"]],
            ],
        ])
    }

    /// Runs `body` with a fixture whose observer follows the daemon's events, then always cleans up: tears down
    /// `topologyID` if the daemon runs, stops the daemon and removes every file.
    static func with(
        topologyID: String,
        retry: RetryPolicy = shortRetries,
        containerConcurrency: Int = 4,
        _ body: @Sendable (OutageFixture) async throws -> Void
    ) async throws {
        let fixture = try await make(retry: retry, containerConcurrency: containerConcurrency)
        let outcome: Result<Void, any Error> = await withTaskGroup(of: Void.self) { group in
            group.addTask { await fixture.runtime.run() }
            let result: Result<Void, any Error>
            do {
                try await body(fixture)
                result = .success(())
            } catch {
                result = .failure(error)
            }
            fixture.runtime.shutdown()
            await group.waitForAll()
            return result
        }
        if await fixture.daemon.isRunning {
            _ = try? await fixture.runtime.teardown(topologyID: topologyID, teardownOrder: []) { _ in }
        }
        try? await fixture.client.shutdown()
        fixture.store.close()
        await fixture.daemon.destroy()
        try outcome.get()
    }

    // MARK: operations

    func apply(
        _ hydrated: JSONValue,
        progress: @escaping TopologyOperations.Progress = { _, _, _, _ in }
    )
        async -> Result<JSONValue, AgentError>
    {
        await operations.apply(
            ApplyRequest(hydrated: hydrated, versionHash: CanonicalHash.hash(hydrated)),
            progress: progress
        )
    }

    /// A progress callback that stops the daemon, once, when `count` containers are settled (`phase`
    /// `.containers` of an apply, `.teardown` of a teardown), and returns only after dockerd has exited: the
    /// operation goes on against a daemon that is gone.
    func stopDaemon(afterContainers count: Int, in stopPhase: Phase = .containers) -> TopologyOperations.Progress {
        let done = Mutex(false)
        let daemon = self.daemon
        return { phase, settled, _, _ in
            guard phase == stopPhase, settled >= count else { return }
            let first = done.withLock { stopped in
                defer { stopped = true }
                return !stopped
            }
            if first { daemon.stopNow() }
        }
    }

    func teardown(
        _ topologyID: String,
        progress: @escaping TopologyOperations.Progress = { _, _, _, _ in }
    ) async -> Result<JSONValue, AgentError> {
        await operations.teardown(topologyID: topologyID, progress: progress)
    }

    /// The state object and how long it took to answer.
    func timedState() async -> (state: JSONValue, elapsed: Duration) {
        let start = ContinuousClock.now
        let state = await operations.state()
        return (state, ContinuousClock.now - start)
    }

    /// Names of this topology's containers as the daemon lists them: (all, running).
    func listed(_ topologyID: String) async throws -> (all: Set<String>, running: Set<String>) {
        let containers = try await client.listContainers(
            all: true,
            filters: .label(RuntimeLabels.topologyID, topologyID)
        )
        return (Set(containers.map(\.name)), Set(containers.filter { $0.state == "running" }.map(\.name)))
    }

    func networks(_ topologyID: String) async throws -> Set<String> {
        Set(try await client.listNetworks(filters: .label(RuntimeLabels.topologyID, topologyID)).map(\.name))
    }
}
