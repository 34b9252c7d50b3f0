import DecnetJSON
import Foundation
import LiveTestSupport
import TestSupport
import Testing

@testable import DockerEngine

/// Bridge networks on the real daemon: create with subnet, internal flag and labels; exact-name lookup; removal.
@Suite(.requiresDocker) struct DockerLiveNetworkTests {
    @Test func labelledInternalBridgeWithSubnet() async throws {
        try await DockerTestEnvironment.withClient { client, cleanup in
            let run = UUID().uuidString
            let network = try await DockerTestEnvironment.createTestNetwork(
                client,
                cleanup: cleanup,
                isInternal: true,
                labels: ["decnet.test.run": run]
            )

            let inspected = try await client.inspectNetwork(network.id)
            #expect(inspected.name == network.name && inspected.id == network.id)
            #expect(inspected.driver == "bridge" && inspected.isInternal && inspected.scope == "local")
            #expect(inspected.firstSubnet == network.subnet)
            #expect(inspected.labels == ["decnet.test.run": run, "decnet.test": "1"])
            #expect(inspected.containers.isEmpty)

            let listed = try await client.listNetworks(filters: .label("decnet.test.run", run))
            #expect(listed.map(\.id) == [network.id])
            #expect(listed.first?.isInternal == true && listed.first?.firstSubnet == network.subnet)

            try await client.removeNetwork(network.id)
            let gone = await #expect(throws: DockerError.self) { _ = try await client.inspectNetwork(network.id) }
            #expect(gone?.code == .notFound)
            let again = await #expect(throws: DockerError.self) { try await client.removeNetwork(network.id) }
            #expect(again?.code == .notFound)
        }
    }

    @Test func lookupByNameIsExactDespiteDockersSubstringFilter() async throws {
        try await DockerTestEnvironment.withClient { client, cleanup in
            let short = try await DockerTestEnvironment.createTestNetwork(client, cleanup: cleanup, isInternal: false)
            let longerName = short.name + "0"
            let longerID = try await client.createNetwork(
                DockerNetworkSpec(name: longerName, labels: ["decnet.test": "1"])
            )
            await cleanup.network(longerID)

            let bySubstring = try await client.listNetworks(filters: .name(short.name))
            #expect(Set(bySubstring.map(\.id)) == [short.id, longerID])

            let exact = try await client.network(named: short.name)
            #expect(exact?.id == short.id && exact?.isInternal == false)
            #expect(try await client.network(named: longerName)?.id == longerID)
            let prefixOnly = try await client.network(named: String(short.name.dropLast()))
            #expect(prefixOnly == nil)
        }
    }
}
