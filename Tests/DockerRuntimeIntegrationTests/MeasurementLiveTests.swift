import DecnetJSON
import DockerEngine
import DockerRuntime
import Foundation
import TestSupport
import Testing
import Topology

extension DockerRuntimeLiveTests {
    /// Wall time of a 20-decky topology (20 bases + 40 services, images present) through the runtime, printed for
    /// the report; the test checks that everything was made, left alone on re-apply, and removed.
    @Suite struct Measurement {
        @Test func twentyDeckiesWithTwoServicesEach() async throws {
            let token = RuntimeTestEnvironment.token()
            let lan = RuntimeTestEnvironment.subnet()
            let topology = DockerTestTopology(
                id: DockerTestTopology.newID(),
                lans: [.init(name: "lan", subnet: lan.subnet, prefix: lan.prefix, dmz: false)],
                deckies: (1...20).map { i in
                    .init(name: "m\(token)-\(i)", services: ["web", "echo"], addresses: [("lan", 10 + i)])
                }
            )
            try await withFixture(topologies: [topology.id]) { fixture in
                let plan = try fixture.plan(topology)
                #expect(plan.containers.count == 60)
                let runtime = fixture.runtime()

                var start = ContinuousClock.now
                let applied = try await runtime.materialise(plan, wasApplied: false) { _ in }
                let applyMS = milliseconds(since: start)
                #expect(applied.createdContainers.count == 60)

                start = ContinuousClock.now
                let again = try await runtime.materialise(plan, wasApplied: true) { _ in }
                let reapplyMS = milliseconds(since: start)
                #expect(again.unchangedContainers.count == 60)
                #expect(Drift(expected: plan, observed: await runtime.observe(topologyID: topology.id)).isEmpty)

                start = ContinuousClock.now
                let removed = try await runtime.teardown(topologyID: topology.id, teardownOrder: plan.teardownOrder) {
                    _ in
                }
                let teardownMS = milliseconds(since: start)
                #expect(removed.removedContainers.count == 60 && removed.removedBridges.count == 1)
                #expect(try await Labelled.read(fixture.client, topology.id) == Labelled.empty)
                print(
                    "runtime: 20 deckies (20 bases + 40 services): apply \(applyMS) ms, re-apply \(reapplyMS) ms, "
                        + "teardown \(teardownMS) ms"
                )
            }
        }
    }
}
