import DecnetJSON
import Foundation
import LiveTestSupport
import TestSupport
import Testing
import Topology

@testable import DockerEngine
@testable import DockerRuntime

extension DockerRuntimeLiveTests {
    /// The event-driven observation on the real daemon: changes made behind the runtime's back show within a second.
    @Suite struct Observer {
        @Test func observationFollowsEventsAndDriftShowsWhatWasDoneBehindOurBack() async throws {
            let topology = DockerTestTopology.gatewayAndHost()
            try await withFixture(topologies: [topology.id]) { fixture in
                let runtime = fixture.runtime()
                let client = fixture.client
                let plan = try fixture.plan(topology)
                let gw = topology.deckies[0].name
                let host = topology.deckies[1].name
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await runtime.run() }
                    await Self.check(runtime: runtime, client: client, plan: plan, gw: gw, host: host, fixture: fixture)
                    runtime.shutdown()
                    await group.waitForAll()
                }
                #expect(!runtime.observer.isCurrent)
                // Both event subscriptions were closed with run().
                #expect(await eventually(within: 1) { fixture.client.poolStatistics.dedicated == 0 })
            }
        }

        static func check(
            runtime: DockerTopologyRuntime,
            client: DockerClient,
            plan: ComposePlan,
            gw: String,
            host: String,
            fixture: RuntimeFixture
        ) async {
            do {
                #expect(await eventually(within: 5) { runtime.observer.isCurrent })
                #expect(fixture.client.poolStatistics.dedicated == 2)
                #expect(await runtime.observe(topologyID: plan.topologyID) == Observation())

                // Created through the runtime: bridges (network events need a re-list) and containers appear.
                _ = try await runtime.materialise(plan, wasApplied: false) { _ in }
                let complete = await eventually(within: 2) {
                    Drift(expected: plan, observed: await runtime.observe(topologyID: plan.topologyID)).isEmpty
                }
                let afterApply = await runtime.observe(topologyID: plan.topologyID)
                #expect(complete, "\(afterApply)")

                // Answers come from the cache.
                let start = ContinuousClock.now
                for _ in 0..<1000 { _ = await runtime.observe(topologyID: plan.topologyID) }
                let perCall = (ContinuousClock.now - start) / 1000
                print("runtime: observe() from the cache takes \(perCall) per call")
                #expect(perCall < .milliseconds(1))

                // Stopped, killed and removed behind the runtime's back.
                let base = plan.containers.first { $0.decky == host && $0.role == .base }!.containerName
                try await client.stopContainer(base, timeout: 1)
                try await client.killContainer("\(gw)-echo")
                try await client.removeContainer("\(host)-probe", force: true)
                let stale = await eventually(within: 1) {
                    let drift = Drift(expected: plan, observed: await runtime.observe(topologyID: plan.topologyID))
                    return drift.stoppedContainers == [base, "\(gw)-echo"].sorted()
                        && drift.missingContainers == ["\(host)-probe"]
                }
                let staleView = await runtime.observe(topologyID: plan.topologyID)
                #expect(stale, "\(Drift(expected: plan, observed: staleView))")
                // The other topology filter and the all-topologies view agree.
                #expect(await runtime.observe(topologyID: "rt-nobody").containers.isEmpty)
                let everything = await runtime.observe(topologyID: nil)
                #expect(everything.containers.contains { $0.name == "\(gw)-web" && $0.running })

                // A foreign container coming and going changes nothing.
                let foreign = try await client.createContainer(
                    name: nil,
                    body: [
                        "Image": JSONValue(DockerTestDaemon.busyboxImage), "Cmd": ["sleep", "infinity"],
                        "Labels": ["decnet.test": "1"], "HostConfig": ["NetworkMode": "none", "Init": true],
                    ]
                )
                fixture.removeAtCleanup(container: foreign.id)
                try await client.startContainer(foreign.id)

                // A re-apply heals: the stopped containers are started again, the removed one is created.
                let baseID = try await client.inspectContainer(base).id
                let healed = try await runtime.materialise(plan, wasApplied: true) { _ in }
                #expect(healed.createdContainers == ["\(host)-probe"] && healed.recreatedContainers.isEmpty)
                #expect(Set(healed.unchangedContainers).isSuperset(of: [base, "\(gw)-echo"]))
                #expect(try await client.inspectContainer(base).id == baseID)
                let clean = await eventually(within: 1) {
                    Drift(expected: plan, observed: await runtime.observe(topologyID: plan.topologyID)).isEmpty
                }
                let healedView = await runtime.observe(topologyID: plan.topologyID)
                #expect(clean, "\(healedView)")
                let all = await runtime.observe(topologyID: nil)
                #expect(!all.containers.contains { $0.name.isEmpty })

                // Torn down: the cache empties through destroy events.
                _ = try await runtime.teardown(topologyID: plan.topologyID, teardownOrder: plan.teardownOrder) { _ in }
                let gone = await eventually(within: 1) {
                    await runtime.observe(topologyID: plan.topologyID) == Observation()
                }
                let finalView = await runtime.observe(topologyID: plan.topologyID)
                #expect(gone, "\(finalView)")
            } catch {
                Issue.record(error)
            }
        }
    }
}
