import DecnetJSON
import Foundation
import LiveTestSupport
import TestSupport
import Testing

@testable import DockerEngine

/// The client against the real daemon: negotiation, Docker's error answers, and the pool under concurrency.
@Suite(.requiresDocker) struct DockerLiveClientTests {
    @Test func negotiatesTheDaemonsVersionCappedAt141() async throws {
        try await DockerTestEnvironment.withClient { client, _ in
            #expect(try await client.ping())
            let info = try await client.version()
            let daemon = try #require(info.apiVersion)
            let negotiated = try await client.apiVersion()
            #expect(negotiated == min(daemon, DockerAPIVersion.clientMaximum))
            #expect(negotiated >= DockerAPIVersion.clientMinimum)
            #expect(!info.version.isEmpty && info.os == "linux")
            let system = try await client.info()
            #expect(system["ServerVersion"]?.stringValue == info.version)
        }
    }

    @Test func notFoundCarriesDockersMessage() async throws {
        try await DockerTestEnvironment.withClient { client, _ in
            let ghost = DockerTestEnvironment.uniqueName("ghost")
            let container = await #expect(throws: DockerError.self) { _ = try await client.inspectContainer(ghost) }
            #expect(container?.code == .notFound && container?.status == 404)
            #expect(container?.message == "No such container: \(ghost)")
            #expect(container?.operation == "GET /containers/\(ghost)/json")
            #expect(container?.isTransient == false)

            let network = await #expect(throws: DockerError.self) { _ = try await client.inspectNetwork(ghost) }
            #expect(network?.code == .notFound && network?.message.contains(ghost) == true)
            let image = await #expect(throws: DockerError.self) { _ = try await client.inspectImage("\(ghost):latest") }
            #expect(image?.code == .notFound && image?.message.contains("No such image") == true)
            let noContainer = try await client.container(named: ghost)
            let noNetwork = try await client.network(named: ghost)
            #expect(noContainer == nil && noNetwork == nil)
        }
    }

    @Test func conflictCarriesDockersMessage() async throws {
        try await DockerTestEnvironment.withClient { client, cleanup in
            let network = try await DockerTestEnvironment.createTestNetwork(client, cleanup: cleanup)
            let again = await #expect(throws: DockerError.self) {
                try await client.createNetwork(DockerNetworkSpec(name: network.name, checkDuplicate: true))
            }
            #expect(again?.code == .conflict && again?.status == 409)
            #expect(again?.message == "network with name \(network.name) already exists")

            let name = DockerTestEnvironment.uniqueName("dup")
            let body: JSONValue = [
                "Image": .string(JSONString(DockerTestDaemon.busyboxImage)), "Cmd": ["true"],
                "Labels": ["decnet.test": "1"],
            ]
            let first = try await client.createContainer(name: name, body: body)
            await cleanup.container(first.id)
            let second = await #expect(throws: DockerError.self) {
                _ = try await client.createContainer(name: name, body: body)
            }
            #expect(second?.code == .conflict && second?.status == 409)
            #expect(second?.message.hasPrefix("Conflict. The container name \"/\(name)\" is already in use") == true)
        }
    }

    @Test func eightConcurrentRequestsShareFourConnections() async throws {
        try await DockerTestEnvironment.withClient(maximumConnections: 4) { client, _ in
            let expected = try await client.version().version
            let versions = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        index.isMultiple(of: 2)
                            ? try await client.version().version
                            : (try await client.info())["ServerVersion"]?.stringValue ?? ""
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(versions == Array(repeating: expected, count: 8))
            let statistics = client.poolStatistics
            #expect(statistics.peakOpen >= 1 && statistics.peakOpen <= 4)
            #expect(statistics.open == statistics.idle)
        }
    }
}
