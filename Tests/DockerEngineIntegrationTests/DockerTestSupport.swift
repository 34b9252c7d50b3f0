import DecnetJSON
import DockerEngine
import Foundation
import LiveTestSupport
import TestSupport
import Testing

/// Shared setup for tests against the real daemon (``DockerTestDaemon``): unique names, and cleanup of what a test
/// made.
enum DockerTestEnvironment {
    /// A short random suffix for names of objects a test creates, so parallel runs never collide.
    static func uniqueName(_ stem: String) -> String {
        "decnet-test-\(stem)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Runs `body` with a fresh client and a cleanup list, then removes everything registered (even when `body`
    /// throws) and shuts the client down.
    static func withClient<T>(
        maximumConnections: Int = 4,
        _ body: (DockerClient, Cleanup) async throws -> T
    ) async throws -> T {
        let client = DockerClient(
            configuration: .init(socketPath: DockerTestDaemon.socketPath, maximumConnections: maximumConnections)
        )
        let cleanup = Cleanup()
        let result: Result<T, any Error>
        do {
            result = .success(try await body(client, cleanup))
        } catch {
            result = .failure(error)
        }
        await cleanup.run(client)
        try await client.shutdown()
        return try result.get()
    }

    /// Creates a labelled bridge on a random /24 in 10.213.0.0/16, retrying when another test holds that subnet.
    static func createTestNetwork(
        _ client: DockerClient,
        cleanup: Cleanup,
        isInternal: Bool = true,
        labels: [String: String] = [:]
    ) async throws -> (name: String, id: String, subnet: String, third: Int) {
        let name = uniqueName("net")
        var lastError: (any Error)?
        for _ in 0..<8 {
            let third = Int.random(in: 0...255)
            let subnet = "10.213.\(third).0/24"
            do {
                let id = try await client.createNetwork(
                    DockerNetworkSpec(
                        name: name,
                        isInternal: isInternal,
                        pools: [.init(subnet: subnet)],
                        labels: labels.merging(["decnet.test": "1"], uniquingKeysWith: { first, _ in first })
                    )
                )
                await cleanup.network(id)
                return (name, id, subnet, third)
            } catch {
                guard error.message.contains("overlap") else { throw error }
                lastError = error
            }
        }
        throw lastError!
    }
}

/// Things a test created, removed at the end in reverse kind order: containers, then networks, then images.
actor Cleanup {
    private var containers: [String] = []
    private var networks: [String] = []
    private var images: [String] = []

    func container(_ id: String) { containers.append(id) }
    func network(_ id: String) { networks.append(id) }
    func image(_ id: String) { images.append(id) }

    func run(_ client: DockerClient) async {
        for id in containers.reversed() { try? await client.removeContainer(id, force: true, volumes: true) }
        for id in networks.reversed() { try? await client.removeNetwork(id) }
        for id in images.reversed() { try? await client.removeImage(id, force: true) }
        containers = []
        networks = []
        images = []
    }
}

/// Runs `body`, failing with `timeout` if it takes longer than `seconds`.
func withDeadline<T: Sendable>(
    _ seconds: Double,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw DockerError(.timeout, operation: "test", message: "gave up after \(seconds) s")
        }
        return value
    }
}
