import DecnetJSON
import Foundation
import LiveTestSupport
import TestSupport
import Testing

@testable import DockerEngine

/// A container's whole life on the real daemon, checked through inspect the way `docker inspect` shows it.
@Suite(.requiresDocker) struct DockerLiveContainerTests {
    static func body(network: String, address: String?, labels: [String: String], command: [String]) -> JSONValue {
        var endpoint = JSONObject()
        if let address { endpoint["IPAMConfig"] = ["IPv4Address": JSONValue(address)] }
        return [
            "Image": JSONValue(DockerTestDaemon.busyboxImage),
            "Cmd": JSONValue(command),
            "Labels": DockerNetworkSpec.stringObject(labels),
            "HostConfig": ["Init": true, "CapAdd": ["NET_ADMIN"], "NetworkMode": JSONValue(network)],
            "NetworkingConfig": ["EndpointsConfig": .object(JSONObject([(JSONString(network), .object(endpoint))]))],
        ]
    }

    @Test func createStartInspectStopRemoveOnAStaticAddress() async throws {
        try await DockerTestEnvironment.withClient { client, cleanup in
            let run = UUID().uuidString
            let lan = try await DockerTestEnvironment.createTestNetwork(client, cleanup: cleanup)
            let address = "10.213.\(lan.third).10"
            let name = DockerTestEnvironment.uniqueName("box")
            let labels = ["decnet.test": "1", "decnet.test.run": run, "decnet.role": "base"]
            let created = try await client.createContainer(
                name: name,
                body: Self.body(network: lan.name, address: address, labels: labels, command: ["sleep", "3600"])
            )
            await cleanup.container(created.id)

            #expect(try await client.inspectContainer(created.id).state.status == "created")
            try await client.startContainer(name)
            let running = try await client.inspectContainer(name)
            #expect(running.id == created.id && running.name == name)
            #expect(running.state.isRunning && running.state.status == "running" && running.state.pid > 0)
            #expect(running.image == DockerTestDaemon.busyboxImage)
            // The container also inherits the image's labels.
            #expect(running.labels.filter { labels[$0.key] != nil } == labels)
            let hostConfig = try #require(running.raw["HostConfig"])
            #expect(hostConfig["Init"] == true)
            #expect(hostConfig["CapAdd"]?.arrayValue?.contains("NET_ADMIN") == true)
            #expect(hostConfig["NetworkMode"]?.stringValue == lan.name)
            let endpoint = try #require(running.endpoint(onNetwork: lan.name))
            #expect(endpoint.ipAddress == address && endpoint.requestedIPv4Address == address)
            #expect(endpoint.networkID == lan.id && endpoint.gateway == "10.213.\(lan.third).1")
            #expect(running.networks.count == 1)

            let listed = try await client.listContainers(filters: .label("decnet.test.run", run))
            #expect(listed.map(\.id) == [created.id] && listed.first?.name == name && listed.first?.isRunning == true)
            let onNetwork = try await client.inspectNetwork(lan.id).containers
            #expect(onNetwork.map(\.containerID) == [created.id] && onNetwork.first?.ipv4Address == "\(address)/24")

            let startAgain = await #expect(throws: DockerError.self) { try await client.startContainer(name) }
            #expect(startAgain?.code == .notModified && startAgain?.status == 304)

            // With Init the container's PID 1 forwards SIGTERM, so stop does not wait out the grace period.
            let stopping = ContinuousClock.now
            try await client.stopContainer(name, timeout: 10)
            #expect(ContinuousClock.now - stopping < .seconds(5))
            let stopped = try await client.inspectContainer(name)
            #expect(!stopped.state.isRunning && stopped.state.status == "exited")
            let stopAgain = await #expect(throws: DockerError.self) { try await client.stopContainer(name) }
            #expect(stopAgain?.code == .notModified)
            #expect(try await client.listContainers(filters: .label("decnet.test.run", run)).isEmpty)
            #expect(try await client.listContainers(all: true, filters: .label("decnet.test.run", run)).count == 1)

            try await client.removeContainer(name, volumes: true)
            let gone = await #expect(throws: DockerError.self) { _ = try await client.inspectContainer(name) }
            #expect(gone?.code == .notFound && gone?.message == "No such container: \(name)")
        }
    }

    @Test func connectAndForceDisconnectASecondNetwork() async throws {
        try await DockerTestEnvironment.withClient { client, cleanup in
            let first = try await DockerTestEnvironment.createTestNetwork(client, cleanup: cleanup)
            let second = try await DockerTestEnvironment.createTestNetwork(client, cleanup: cleanup)
            let created = try await client.createContainer(
                name: DockerTestEnvironment.uniqueName("multi"),
                body: Self.body(
                    network: first.name,
                    address: nil,
                    labels: ["decnet.test": "1"],
                    command: ["sleep", "3600"]
                )
            )
            await cleanup.container(created.id)
            try await client.startContainer(created.id)

            let secondAddress = "10.213.\(second.third).20"
            try await client.connectNetwork(
                second.id,
                container: created.id,
                ipv4Address: secondAddress,
                aliases: ["svc"]
            )
            let both = try await client.inspectContainer(created.id)
            #expect(Set(both.networks.map(\.networkName)) == [first.name, second.name])
            #expect(both.endpoint(onNetwork: second.name)?.ipAddress == secondAddress)
            #expect(both.endpoint(onNetwork: second.name)?.aliases.contains("svc") == true)

            let removeWhileAttached = await #expect(throws: DockerError.self) {
                try await client.removeNetwork(second.id)
            }
            #expect(removeWhileAttached?.code == .conflict && removeWhileAttached?.status == 403)
            #expect(removeWhileAttached?.message.hasSuffix("has active endpoints") == true)

            try await client.disconnectNetwork(second.id, container: created.id, force: true)
            #expect(try await client.inspectContainer(created.id).networks.map(\.networkName) == [first.name])
            #expect(try await client.inspectNetwork(second.id).containers.isEmpty)
        }
    }

    @Test func waitReturnsTheExitCodeAndCancelsCleanly() async throws {
        try await DockerTestEnvironment.withClient { client, cleanup in
            let lan = try await DockerTestEnvironment.createTestNetwork(client, cleanup: cleanup)
            let quick = try await client.createContainer(
                name: DockerTestEnvironment.uniqueName("exit7"),
                body: Self.body(
                    network: lan.name,
                    address: nil,
                    labels: ["decnet.test": "1"],
                    command: ["sh", "-c", "exit 7"]
                )
            )
            await cleanup.container(quick.id)
            try await client.startContainer(quick.id)
            let result = try await client.waitContainer(quick.id)
            #expect(result.statusCode == 7 && result.errorMessage == nil)
            #expect(try await client.inspectContainer(quick.id).state.exitCode == 7)

            let sleeper = try await client.createContainer(
                name: DockerTestEnvironment.uniqueName("sleeper"),
                body: Self.body(
                    network: lan.name,
                    address: nil,
                    labels: ["decnet.test": "1"],
                    command: ["sleep", "3600"]
                )
            )
            await cleanup.container(sleeper.id)
            try await client.startContainer(sleeper.id)
            let started = ContinuousClock.now
            let outcome = await withTaskGroup(of: DockerError?.self) { group in
                group.addTask {
                    do {
                        _ = try await client.waitContainer(sleeper.id)
                        return nil
                    } catch {
                        return error as? DockerError
                    }
                }
                try? await Task.sleep(for: .milliseconds(200))
                group.cancelAll()
                return await group.next() ?? nil
            }
            #expect(outcome?.code == .cancelled)
            #expect(ContinuousClock.now - started < .seconds(3))
            // The client is still usable afterwards, and the container still runs until it is killed.
            #expect(try await client.inspectContainer(sleeper.id).state.isRunning)
            try await client.killContainer(sleeper.id, signal: "KILL")
            #expect(try await client.waitContainer(sleeper.id).statusCode == 137)
            let killAgain = await #expect(throws: DockerError.self) { try await client.killContainer(sleeper.id) }
            #expect(killAgain?.code == .conflict && killAgain?.message.contains("is not running") == true)
        }
    }
}
