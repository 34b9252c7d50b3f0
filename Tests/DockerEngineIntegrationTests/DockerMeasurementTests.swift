import DecnetJSON
import Foundation
import LiveTestSupport
import TestSupport
import Testing

@testable import DockerEngine

/// Timing of container create + start, sequential against 4-way concurrent. A measurement, not a check: it runs only
/// with `DECNET_DOCKER_MEASURE=1` (it takes about half a minute) and prints its numbers.
@Suite(
    .requiresDocker,
    .enabled(if: ProcessInfo.processInfo.environment["DECNET_DOCKER_MEASURE"] == "1", "set DECNET_DOCKER_MEASURE=1")
)
struct DockerMeasurementTests {
    static let count = 20

    static func createAndStart(_ client: DockerClient, network: String, run: String, index: Int) async throws -> String
    {
        let created = try await client.createContainer(
            name: DockerTestEnvironment.uniqueName("measure-\(index)"),
            body: [
                "Image": JSONValue(DockerTestDaemon.busyboxImage), "Cmd": ["sleep", "3600"],
                "Labels": ["decnet.test": "1", "decnet.test.run": JSONValue(run)],
                "HostConfig": ["Init": true, "NetworkMode": JSONValue(network)],
            ]
        )
        try await client.startContainer(created.id)
        return created.id
    }

    static func removeAll(_ client: DockerClient, _ ids: [String]) async {
        await withTaskGroup(of: Void.self) { group in
            for id in ids { group.addTask { try? await client.removeContainer(id, force: true) } }
        }
    }

    @Test func sequentialVersusFourWayCreateAndStart() async throws {
        try await DockerTestEnvironment.withClient(maximumConnections: 4) { client, cleanup in
            let lan = try await DockerTestEnvironment.createTestNetwork(client, cleanup: cleanup)
            let run = UUID().uuidString

            let sequentialStart = ContinuousClock.now
            var sequentialIDs: [String] = []
            for index in 0..<Self.count {
                let id = try await Self.createAndStart(client, network: lan.name, run: run, index: index)
                await cleanup.container(id)
                sequentialIDs.append(id)
            }
            let sequential = ContinuousClock.now - sequentialStart
            await Self.removeAll(client, sequentialIDs)

            let concurrentStart = ContinuousClock.now
            let concurrentIDs = try await withThrowingTaskGroup(of: String.self) { group in
                var ids: [String] = []
                var next = 0
                while next < 4 {
                    let index = next
                    group.addTask { try await Self.createAndStart(client, network: lan.name, run: run, index: index) }
                    next += 1
                }
                while let id = try await group.next() {
                    await cleanup.container(id)
                    ids.append(id)
                    if next < Self.count {
                        let index = next
                        group.addTask {
                            try await Self.createAndStart(client, network: lan.name, run: run, index: index)
                        }
                        next += 1
                    }
                }
                return ids
            }
            let concurrent = ContinuousClock.now - concurrentStart
            let running = try await client.listContainers(filters: .label("decnet.test.run", run))
            #expect(running.count == Self.count && concurrentIDs.count == Self.count)
            await Self.removeAll(client, concurrentIDs)
            print("docker measure: \(Self.count) x create+start: sequential \(sequential), 4-way \(concurrent)")
        }
    }
}
