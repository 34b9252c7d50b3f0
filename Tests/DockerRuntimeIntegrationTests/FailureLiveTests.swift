import DecnetJSON
import DockerEngine
import DockerRuntime
import Foundation
import LiveTestSupport
import Synchronization
import TestSupport
import Testing
import Topology

extension DockerRuntimeLiveTests {
    /// Failed applies, objects that are not ours, and teardown on the real daemon.
    @Suite struct Failures {
        @Test func aMissingImageFailsAtOnceAndAFirstApplyLeavesNothing() async throws {
            var topology = DockerTestTopology.gatewayAndHost()
            let missing = "decnet-test/missing-\(RuntimeTestEnvironment.token()):latest"
            try await withFixture(missingImage: missing, topologies: [topology.id]) { fixture in
                topology.deckies[1].services.append("ghost")
                let plan = try fixture.plan(topology)
                let retries = Mutex<[String]>([])
                // The seed's real delays: a retried pull would take 15 s.
                let runtime = fixture.runtime(
                    retry: .seed,
                    onRetry: { r in retries.withLock { $0.append(r.operation) } }
                )
                let start = ContinuousClock.now
                let failure = await #expect(throws: RuntimeFailure.self) {
                    _ = try await runtime.materialise(plan, wasApplied: false) { _ in }
                }
                #expect(milliseconds(since: start) < 5000)
                #expect(failure?.kind == .failed && failure?.phase == "images")
                #expect(failure?.message.contains(missing) == true)
                #expect(failure?.engineMessage?.isEmpty == false)
                #expect(retries.withLock { $0 }.isEmpty)
                // The bridges made before the image step are gone again.
                #expect(try await Labelled.read(fixture.client, topology.id) == Labelled.empty)
            }
        }

        @Test func aMissingBuildContextIsAPermanentError() async throws {
            let topology = DockerTestTopology.gatewayAndHost()
            try await withFixture(topologies: [topology.id]) { fixture in
                let plan = try fixture.plan(topology)
                try FileManager.default.removeItem(atPath: fixture.templatesRoot + "/probe")
                let retries = Mutex(0)
                let runtime = fixture.runtime(retry: .seed, onRetry: { _ in retries.withLock { $0 += 1 } })
                let failure = await #expect(throws: RuntimeFailure.self) {
                    _ = try await runtime.materialise(plan, wasApplied: false) { _ in }
                }
                #expect(failure?.kind == .failed && failure?.phase == "images")
                #expect(failure?.message.contains(fixture.templatesRoot + "/probe") == true)
                #expect(failure?.message.contains("not a directory") == true)
                #expect(retries.withLock { $0 } == 0)
                #expect(try await Labelled.read(fixture.client, topology.id) == Labelled.empty)
            }
        }

        @Test func aFailureAmongContainersUndoesAFirstApplyAndLeavesAReapplyRunning() async throws {
            var topology = DockerTestTopology.gatewayAndHost()
            try await withFixture(badCapability: true, topologies: [topology.id]) { fixture in
                topology.deckies[1].services = ["probe", "broken"]
                let plan = try fixture.plan(topology)
                // One decky at a time, so the gateway is complete before the host's broken service fails.
                let runtime = fixture.runtime(containerConcurrency: 1)
                let first = await #expect(throws: RuntimeFailure.self) {
                    _ = try await runtime.materialise(plan, wasApplied: false) { _ in }
                }
                #expect(first?.kind == .failed && first?.phase == "containers")
                #expect(first?.engineMessage?.contains("DECNET_NO_SUCH_CAPABILITY") == true)
                #expect(try await Labelled.read(fixture.client, topology.id) == Labelled.empty)

                let again = await #expect(throws: RuntimeFailure.self) {
                    _ = try await runtime.materialise(plan, wasApplied: true) { _ in }
                }
                #expect(again?.phase == "containers")
                let left = try await Labelled.read(fixture.client, topology.id)
                let gw = topology.deckies[0].name
                let host = topology.deckies[1].name
                #expect(
                    Set(left.containers.keys) == [
                        topology.base(gw), "\(gw)-web", "\(gw)-echo", topology.base(host), "\(host)-probe",
                    ]
                )
                #expect(left.networks.count == 2)
                let observed = await runtime.observe(topologyID: topology.id)
                #expect(Drift(expected: plan, observed: observed).missingContainers == ["\(host)-broken"])
            }
        }

        @Test func aSameNamedNetworkWithoutOurLabelIsNeverTouched() async throws {
            let topology = DockerTestTopology.gatewayAndHost()
            try await withFixture(topologies: [topology.id]) { fixture in
                let client = fixture.client
                let name = topology.network("lan-a")
                let foreignID = try await client.createNetwork(
                    DockerNetworkSpec(
                        name: name,
                        isInternal: true,
                        pools: [.init(subnet: topology.lans[1].subnet)],
                        labels: ["decnet.test": "1"]
                    )
                )
                fixture.removeAtCleanup(network: foreignID)
                let runtime = fixture.runtime()
                let failure = await #expect(throws: RuntimeFailure.self) {
                    _ = try await runtime.materialise(try fixture.plan(topology), wasApplied: false) { _ in }
                }
                #expect(failure?.kind == .failed && failure?.phase == "networks")
                #expect(failure?.message.contains(name) == true && failure?.engineMessage == nil)
                #expect(try await Labelled.read(client, topology.id) == Labelled.empty)
                _ = try await runtime.teardown(topologyID: topology.id, teardownOrder: [name]) { _ in }
                #expect(try await client.network(named: name)?.id == foreignID)
                try await client.removeNetwork(foreignID)
            }
        }

        @Test func aSameNamedContainerWithoutOurLabelIsNeverTouched() async throws {
            let topology = DockerTestTopology.gatewayAndHost()
            try await withFixture(topologies: [topology.id]) { fixture in
                let client = fixture.client
                let name = "\(topology.deckies[0].name)-web"
                let foreign = try await client.createContainer(
                    name: name,
                    body: [
                        "Image": JSONValue(DockerTestDaemon.busyboxImage), "Cmd": ["sleep", "infinity"],
                        "Labels": [
                            "decnet.test": "1",
                            "com.docker.compose.project": JSONValue("decnet-topo-" + topology.prefix),
                        ],
                        "HostConfig": ["NetworkMode": "none", "Init": true],
                    ]
                )
                fixture.removeAtCleanup(container: foreign.id)
                try await client.startContainer(foreign.id)
                let runtime = fixture.runtime()
                let failure = await #expect(throws: RuntimeFailure.self) {
                    _ = try await runtime.materialise(try fixture.plan(topology), wasApplied: false) { _ in }
                }
                #expect(failure?.kind == .failed && failure?.phase == "containers")
                #expect(failure?.message.contains(name) == true)
                // Refused before any change: no bridge was made either.
                #expect(try await Labelled.read(client, topology.id) == Labelled.empty)
                _ = try await runtime.teardown(topologyID: topology.id, teardownOrder: []) { _ in }
                let survivor = try await client.inspectContainer(foreign.id)
                #expect(survivor.state.isRunning && survivor.name == name)
                try await client.removeContainer(foreign.id, force: true)
            }
        }

        @Test func teardownRemovesOnlyItsTopologyAndCanRunTwice() async throws {
            let first = DockerTestTopology.gatewayAndHost()
            var second = DockerTestTopology.gatewayAndHost()
            second.deckies[0].forwards = false  // the two would otherwise publish the same host ports
            try await withFixture(topologies: [first.id, second.id]) { fixture in
                let runtime = fixture.runtime()
                let plan = try fixture.plan(first)
                _ = try await runtime.materialise(plan, wasApplied: false) { _ in }
                _ = try await runtime.materialise(try fixture.plan(second), wasApplied: false) { _ in }
                let others = try await Labelled.read(fixture.client, second.id)

                let progress = ProgressLog()
                let report = try await runtime.teardown(
                    topologyID: first.id,
                    teardownOrder: plan.teardownOrder,
                    progress: progress.record
                )
                #expect(
                    Set(report.removedContainers) == first.containerNames(plan) && report.removedContainers.count == 5
                )
                // Services before their bases.
                let firstBase = report.removedContainers.firstIndex { $0.hasPrefix("decnet_t_") } ?? 0
                #expect(report.removedContainers[..<firstBase].allSatisfy { !$0.hasPrefix("decnet_t_") })
                #expect(report.removedContainers.count - firstBase == 2)
                #expect(report.removedBridges == plan.teardownOrder)
                #expect(progress.phases == [.teardown])
                #expect(try await Labelled.read(fixture.client, first.id) == Labelled.empty)
                #expect(try await Labelled.read(fixture.client, second.id) == others)
                for name in others.containers.keys {
                    #expect(try await fixture.client.inspectContainer(name).state.isRunning)
                }

                let again = try await runtime.teardown(topologyID: first.id, teardownOrder: plan.teardownOrder) { _ in }
                #expect(again == TeardownReport())
                // No stored row, no order: everything labelled still goes.
                let byLabel = try await runtime.teardown(topologyID: second.id, teardownOrder: []) { _ in }
                #expect(byLabel.removedContainers.count == 5 && byLabel.removedBridges.count == 2)
                #expect(try await Labelled.read(fixture.client, second.id) == Labelled.empty)
            }
        }
    }
}
