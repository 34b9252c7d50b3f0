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
    /// Apply, re-apply, change and shrink a topology on the real daemon, checked through the Engine API.
    @Suite struct Materialise {
        @Test func multiLANTopologyWithAForwardingGateway() async throws {
            let topology = DockerTestTopology.gatewayAndHost()
            try await withFixture(topologies: [topology.id]) { fixture in
                let plan = try fixture.plan(topology)
                let runtime = fixture.runtime()
                let gw = topology.deckies[0].name
                let host = topology.deckies[1].name
                let progress = ProgressLog()
                let report = try await runtime.materialise(plan, wasApplied: false, progress: progress.record)

                #expect(report.createdBridges == [topology.network("DMZ"), topology.network("lan-a")])
                #expect(
                    Set(report.createdContainers) == topology.containerNames(plan)
                        && report.createdContainers.count == 5
                )
                #expect(report.recreatedContainers.isEmpty && report.unchangedContainers.isEmpty)
                #expect(progress.phases == [.networks, .images, .containers])
                let client = fixture.client

                // Bridges: exact names, subnets, only the DMZ reaches out, our labels and compose's.
                let dmz = try #require(try await client.network(named: topology.network("DMZ")))
                let inner = try #require(try await client.network(named: topology.network("lan-a")))
                #expect(dmz.firstSubnet == topology.lans[0].subnet && !dmz.isInternal && dmz.driver == "bridge")
                #expect(inner.firstSubnet == topology.lans[1].subnet && inner.isInternal)
                #expect(dmz.labels["decnet.topology.id"] == topology.id && dmz.labels["decnet.topology.lan"] == "DMZ")
                #expect(dmz.labels["com.docker.compose.project"] == plan.projectName)
                #expect(dmz.labels["com.docker.compose.network"] == topology.network("DMZ"))

                // The gateway: one address per LAN, forwarding, init, published ports, compose labels.
                let base = try await client.inspectContainer(topology.base(gw))
                #expect(base.state.isRunning)
                #expect(base.endpoint(onNetwork: topology.network("DMZ"))?.ipAddress == topology.address("DMZ", 2))
                #expect(base.endpoint(onNetwork: topology.network("lan-a"))?.ipAddress == topology.address("lan-a", 2))
                #expect(
                    base.endpoint(onNetwork: topology.network("lan-a"))?.requestedIPv4Address
                        == topology.address("lan-a", 2)
                )
                let hostConfig = try #require(base.raw["HostConfig"])
                #expect(hostConfig["Init"] == .bool(true))
                #expect(hostConfig["Sysctls"]?["net.ipv4.ip_forward"]?.stringValue == "1")
                #expect(hostConfig["CapAdd"] == ["NET_ADMIN"])
                #expect(hostConfig["RestartPolicy"]?["Name"]?.stringValue == "unless-stopped")
                #expect(hostConfig["LogConfig"]?["Config"]?["max-file"]?.stringValue == "5")
                let bindings = hostConfig["PortBindings"]?.objectValue?.keys.map(\.value).sorted()
                #expect(
                    bindings
                        == ["\(fixture.echoPort)/tcp", "\(fixture.echoUDPPort)/udp", "\(fixture.webPort)/tcp"].sorted()
                )
                #expect(base.raw["Config"]?["Hostname"]?.stringValue == gw)
                #expect(base.labels["com.docker.compose.project"] == plan.projectName)
                #expect(base.labels["com.docker.compose.service"] == gw)
                #expect(base.labels["com.docker.compose.oneoff"] == "False")
                #expect(base.labels["com.docker.compose.container-number"] == "1")
                #expect(
                    base.labels["com.docker.compose.project.config_files"]
                        == fixture.stateDirectory + "/topologies/" + plan.composeFileName
                )
                #expect(base.labels["com.docker.compose.config-hash"]?.count == 64)

                // Services live in the gateway's network namespace, publish nothing themselves.
                for suffix in ["web", "echo"] {
                    let service = try await client.inspectContainer("\(gw)-\(suffix)")
                    #expect(service.state.isRunning)
                    #expect(service.raw["HostConfig"]?["NetworkMode"]?.stringValue == "container:" + base.id)
                    #expect(service.raw["HostConfig"]?["PortBindings"]?.objectValue?.isEmpty ?? true)
                    #expect(service.labels["com.docker.compose.service"] == "\(gw)-\(suffix)")
                    #expect(service.labels["decnet.topology.service"] == "true")
                }
                let web = try await client.inspectContainer("\(gw)-web")
                let env = web.raw["Config"]?["Env"]?.arrayValue?.compactMap(\.stringValue) ?? []
                #expect(env.contains("NODE_NAME=\(gw)") && env.contains("LEVEL=3") && env.contains("HOSTNAME=\(gw)"))
                // httpd runs in the web container, in the gateway's namespace, behind the gateway's published port.
                let status = try await httpStatus(port: fixture.webPort)
                #expect(status.map { $0.count == 3 && $0 != "000" } ?? true, "no HTTP answer on \(fixture.webPort)")

                // The built service: its own tag, BASE_IMAGE passed as a build argument.
                let probe = try await client.inspectContainer("\(host)-probe")
                #expect(probe.state.isRunning && probe.image.hasPrefix("decnet-build/probe:"))
                let image = try await client.inspectImage(probe.image)
                #expect(image.labels["decnet.test.base-image"] == DockerTestDaemon.busyboxImage)
                #expect(image.labels["decnet.build.context"] == fixture.templatesRoot + "/probe")
                let hostBase = try await client.inspectContainer(topology.base(host))
                #expect(hostBase.networks.map(\.networkName) == [topology.network("lan-a")])
                #expect(hostBase.networks.first?.ipAddress == topology.address("lan-a", 3))

                let ports = try await runtime.publishedHostPorts(topologyIDs: [topology.id, "someone-else"])
                #expect(
                    ports == [
                        HostPort(fixture.webPort, .tcp), HostPort(fixture.echoPort, .tcp),
                        HostPort(fixture.echoUDPPort, .udp),
                    ]
                )
                #expect(try await runtime.publishedHostPorts(topologyIDs: ["someone-else"]).isEmpty)

                let observed = await runtime.observe(topologyID: topology.id)
                #expect(observed.error == nil)
                #expect(Drift(expected: plan, observed: observed).isEmpty)
                #expect(observed.bridges == [topology.network("DMZ"), topology.network("lan-a")].sorted())

                // docker compose sees the containers as its project's.
                if let compose = executable(["/usr/bin/docker-compose", "/usr/local/bin/docker-compose"]) {
                    let file = try fixture.writeComposeFile(plan)
                    let ps = try ProcessRunner.runMerged(compose, ["-p", plan.projectName, "-f", file, "ps"])
                    #expect(ps.status == 0, "\(ps.output)")
                    for name in topology.containerNames(plan) {
                        #expect(ps.output.contains(name), "\(name) not in \(ps.output)")
                    }
                }
            }
        }

        @Test func reapplyingChangesNothing() async throws {
            let topology = DockerTestTopology.gatewayAndHost()
            try await withFixture(topologies: [topology.id]) { fixture in
                let plan = try fixture.plan(topology)
                let runtime = fixture.runtime()
                _ = try await runtime.materialise(plan, wasApplied: false) { _ in }
                let before = try await Labelled.read(fixture.client, topology.id)

                let start = ContinuousClock.now
                let report = try await runtime.materialise(plan, wasApplied: true) { _ in }
                print("runtime: idempotent re-apply of 2 deckies + 3 services took \(milliseconds(since: start)) ms")
                #expect(report.createdContainers.isEmpty && report.recreatedContainers.isEmpty)
                #expect(report.createdBridges.isEmpty)
                #expect(Set(report.unchangedContainers) == topology.containerNames(plan))
                #expect(try await Labelled.read(fixture.client, topology.id) == before)
            }
        }

        @Test func identicalBuildsWithinOneApplyAreBuiltOnce() async throws {
            var topology = DockerTestTopology.gatewayAndHost()
            try await withFixture(topologies: [topology.id]) { fixture in
                let token = RuntimeTestEnvironment.token()
                topology.deckies = [
                    .init(name: "b1\(token)", services: ["probe"], addresses: [("lan-a", 5)]),
                    .init(name: "b2\(token)", services: ["probe"], addresses: [("lan-a", 6)]),
                ]
                let progress = ProgressLog()
                _ = try await fixture.runtime().materialise(
                    try fixture.plan(topology),
                    wasApplied: false,
                    progress: progress.record
                )
                // Two sources: the base image and one build shared by both deckies.
                #expect(progress.totals(.images) == [2])
                let first = try await fixture.client.inspectContainer("b1\(token)-probe")
                let second = try await fixture.client.inspectContainer("b2\(token)-probe")
                #expect(first.image == second.image && first.imageID == second.imageID)
                let built = try await fixture.client.listImages(filters: .label("decnet.test.token", fixture.token))
                #expect(built.count == 1 && built.first?.repoTags == [first.image])
            }
        }

        @Test func changingADeckyRecreatesOnlyItAndItsServices() async throws {
            var topology = DockerTestTopology.gatewayAndHost()
            try await withFixture(topologies: [topology.id]) { fixture in
                let runtime = fixture.runtime()
                _ = try await runtime.materialise(try fixture.plan(topology), wasApplied: false) { _ in }
                let before = try await Labelled.read(fixture.client, topology.id)
                let gw = topology.deckies[0].name
                let host = topology.deckies[1].name

                // The host moves to another address: its base and its service are recreated, the gateway is not.
                topology.deckies[1].addresses = [("lan-a", 4)]
                let moved = try await runtime.materialise(try fixture.plan(topology), wasApplied: true) { _ in }
                #expect(Set(moved.recreatedContainers) == [topology.base(host), "\(host)-probe"])
                #expect(Set(moved.unchangedContainers) == [topology.base(gw), "\(gw)-web", "\(gw)-echo"])
                #expect(moved.createdContainers.isEmpty && moved.createdBridges.isEmpty)
                let afterMove = try await Labelled.read(fixture.client, topology.id)
                for name in [topology.base(gw), "\(gw)-web", "\(gw)-echo"] {
                    #expect(afterMove.containers[name] == before.containers[name])
                }
                #expect(afterMove.containers[topology.base(host)] != before.containers[topology.base(host)])
                let hostBase = try await fixture.client.inspectContainer(topology.base(host))
                #expect(hostBase.networks.first?.ipAddress == topology.address("lan-a", 4))
                let probe = try await fixture.client.inspectContainer("\(host)-probe")
                #expect(
                    probe.state.isRunning
                        && probe.raw["HostConfig"]?["NetworkMode"]?.stringValue == "container:" + hostBase.id
                )

                // A service's own setting changes: only that service is recreated, not its base.
                topology.deckies[0].serviceConfig = ["web": ["level": "4"]]
                let tuned = try await runtime.materialise(try fixture.plan(topology), wasApplied: true) { _ in }
                #expect(tuned.recreatedContainers == ["\(gw)-web"])
                #expect(
                    try await Labelled.read(fixture.client, topology.id).containers[topology.base(gw)]
                        == before.containers[topology.base(gw)]
                )

                // The host leaves the topology: its containers are removed (compose's --remove-orphans).
                topology.deckies.removeLast()
                let shrunk = try await runtime.materialise(try fixture.plan(topology), wasApplied: true) { _ in }
                #expect(Set(shrunk.unchangedContainers) == [topology.base(gw), "\(gw)-web", "\(gw)-echo"])
                let afterShrink = try await Labelled.read(fixture.client, topology.id)
                #expect(Set(afterShrink.containers.keys) == [topology.base(gw), "\(gw)-web", "\(gw)-echo"])
                #expect(try await fixture.client.container(named: "\(host)-probe") == nil)
                #expect(Set(afterShrink.networks.keys) == [topology.network("DMZ"), topology.network("lan-a")])
            }
        }

        @Test func aBridgeOfOursThatDiffersIsRecreatedWithEverythingAttached() async throws {
            var topology = DockerTestTopology.gatewayAndHost()
            try await withFixture(topologies: [topology.id]) { fixture in
                let runtime = fixture.runtime()
                _ = try await runtime.materialise(try fixture.plan(topology), wasApplied: false) { _ in }
                let before = try await Labelled.read(fixture.client, topology.id)

                // Same name and subnet, other internal flag: the seed would have kept the old network.
                topology.lans[1].dmz = true
                let plan = try fixture.plan(topology)
                let report = try await runtime.materialise(plan, wasApplied: true) { _ in }
                #expect(report.createdBridges == [topology.network("lan-a")])
                #expect(Set(report.recreatedContainers) == topology.containerNames(plan))
                let inner = try #require(try await fixture.client.network(named: topology.network("lan-a")))
                #expect(!inner.isInternal && inner.id != before.networks[topology.network("lan-a")])
                let hostBase = try await fixture.client.inspectContainer(topology.base(topology.deckies[1].name))
                #expect(
                    hostBase.endpoint(onNetwork: topology.network("lan-a"))?.ipAddress == topology.address("lan-a", 3)
                )
                #expect(Drift(expected: plan, observed: await runtime.observe(topologyID: topology.id)).isEmpty)
            }
        }
    }
}

/// Collects progress reports.
final class ProgressLog: Sendable {
    private let entries = Mutex<[RuntimeProgress]>([])

    var record: @Sendable (RuntimeProgress) -> Void { { progress in self.entries.withLock { $0.append(progress) } } }

    /// The distinct totals reported for `phase`.
    func totals(_ phase: RuntimeProgress.Phase) -> [Int] {
        entries.withLock { list in Array(Set(list.filter { $0.phase == phase }.map(\.total))).sorted() }
    }

    /// Phases in the order they first appeared.
    var phases: [RuntimeProgress.Phase] {
        entries.withLock { list in
            var seen: [RuntimeProgress.Phase] = []
            for entry in list where !seen.contains(entry.phase) { seen.append(entry.phase) }
            return seen
        }
    }
}
