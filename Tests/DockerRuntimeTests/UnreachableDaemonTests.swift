import DecnetJSON
import DockerEngine
import DockerRuntime
import Foundation
import TestSupport
import Testing
import Topology

/// A client pointed at a socket nobody listens on: every operation is `unavailable`, observations carry the error.
/// Needs no daemon.
@Suite struct UnreachableDaemonTests {
    @Test func anUnreachableDaemonIsUnavailableEverywhere() async throws {
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent(
            "no-docker-\(UUID().uuidString).sock"
        ).path
        let client = DockerClient(configuration: .init(socketPath: socket, connectTimeout: .seconds(1)))
        let runtime = DockerTopologyRuntime(
            client: client,
            configuration: .init(
                stateDirectory: "/nonexistent",
                retry: RetryPolicy(delays: [.milliseconds(1)]),
                reconnectBackoff: [.milliseconds(20)]
            )
        )
        // Any plan does: nothing of it reaches a daemon.
        let plan = try ContainerBlueprintTests.plan(ContainerBlueprintTests.topology())

        let apply = await #expect(throws: RuntimeFailure.self) {
            _ = try await runtime.materialise(plan, wasApplied: false) { _ in }
        }
        #expect(apply?.kind == .unavailable && apply?.message.contains(socket) == true)
        let teardown = await #expect(throws: RuntimeFailure.self) {
            _ = try await runtime.teardown(topologyID: plan.topologyID, teardownOrder: []) { _ in }
        }
        #expect(teardown?.kind == .unavailable && teardown?.phase == "teardown")
        let ports = await #expect(throws: RuntimeFailure.self) {
            _ = try await runtime.publishedHostPorts(topologyIDs: [plan.topologyID])
        }
        #expect(ports?.kind == .unavailable)
        let direct = await runtime.observe(topologyID: plan.topologyID)
        #expect(direct.error != nil && direct.bridges.isEmpty && direct.containers.isEmpty)
        #expect((direct.error?.count ?? 0) <= 200)

        // The observer keeps trying and reports the error meanwhile.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await runtime.run() }
            let reported = await eventually(within: 2) { await runtime.observe(topologyID: nil).error != nil }
            #expect(reported)
            #expect(!runtime.observer.isCurrent)
            runtime.shutdown()
            await group.waitForAll()
        }
        try await client.shutdown()
    }
}
