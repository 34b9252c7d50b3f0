import DecnetJSON
import Foundation
import TestSupport
import Testing
import Topology

#if canImport(Glibc)
import Glibc
#endif

@Suite("Port preflight")
struct PortPreflightTests {
    static let composer = TopologyComposer(templatesRoot: "/t")
    static let nothingBound = PortPreflight(boundPorts: { [] })

    static func plan(_ deckies: [TestTopology.Decky], catalog: ServiceCatalog = .default) throws -> ComposePlan {
        try TopologyComposer(catalog: catalog, templatesRoot: "/t").compose(TestTopology.hydrated(deckies: deckies))
    }

    @Test func httpAndHttpsOnOneDeckyAreMergedNotRefused() throws {
        let plan = try Self.plan([.init(name: "gw", services: ["http", "https"], forwards: true)])
        #expect(plan.document["services"]?["gw"]?["ports"] == ["80:80", "443:443", "443:443"])
        #expect(try Self.nothingBound.check(plan).isEmpty)
        let merged = plan.mergingDuplicatePorts()
        #expect(merged.container(serviceKey: "gw")?.ports.map(\.composeText) == ["80:80", "443:443"])
        #expect(merged.document == plan.document)
    }

    /// DECNET's all-bridges-forward case: several bases publish 22 ⇒ one collision naming them in plan order.
    @Test func forwardingBridgesCollideOnTheSamePort() throws {
        let c = try #require(
            VectorCase.load("compose.json").first { $0.name == "real_generated_all_bridges_forward_ssh" }
        )
        let plan = try Self.composer.compose(try #require(c["input"]))
        let conflicts = try Self.nothingBound.check(plan)
        let publishers = plan.containers.filter { $0.ports.contains(PortMapping(hostPort: 22, containerPort: 22)) }
        #expect(publishers.count >= 2)
        #expect(
            conflicts == [PortConflict(port: 22, proto: .tcp, deckies: publishers.map(\.decky), reason: .collision)]
        )
        #expect(
            conflicts.first?.jsonValue == [
                "port": 22, "protocol": "tcp", "deckies": JSONValue(publishers.map(\.decky)), "reason": "collision",
            ]
        )
    }

    @Test func boundPortsAreRefusedUnlessTheTopologyOwnsThem() throws {
        let plan = try Self.plan([
            .init(name: "gw", services: ["ssh", "http"], forwards: true),
            .init(name: "br", services: ["ssh"], ips: [("dmz", "10.0.0.3")], forwards: true),
        ])
        let preflight = PortPreflight(boundPorts: { [HostPort(80, .tcp), HostPort(22, .tcp), HostPort(443, .udp)] })
        #expect(
            try preflight.check(plan) == [
                PortConflict(port: 22, proto: .tcp, deckies: ["gw", "br"], reason: .collision),
                PortConflict(port: 22, proto: .tcp, deckies: ["gw", "br"], reason: .bound),
                PortConflict(port: 80, proto: .tcp, deckies: ["gw"], reason: .bound),
            ]
        )
        #expect(
            try preflight.check(plan, ownedPorts: [HostPort(22, .tcp), HostPort(80, .tcp)]) == [
                PortConflict(port: 22, proto: .tcp, deckies: ["gw", "br"], reason: .collision)
            ]
        )
    }

    @Test func protocolsAreSeparateAndTheProbeIsOnlyAskedWhenNeeded() throws {
        let catalog = ServiceCatalog(services: [
            ServiceDefinition(
                name: "dns",
                tcpPorts: [53],
                udpPorts: [53],
                source: .image("dns:1"),
                containerSuffix: "dns"
            ),
            ServiceDefinition(name: "quic", udpPorts: [443], source: .image("q:1"), containerSuffix: "q"),
        ])
        let plan = try Self.plan(
            [
                .init(name: "a", services: ["dns"], forwards: true),
                .init(name: "b", services: ["quic"], ips: [("dmz", "10.0.0.3")], forwards: true),
            ],
            catalog: catalog
        )
        #expect(plan.document["services"]?["a"]?["ports"] == ["53:53", "53:53/udp"])
        #expect(try Self.nothingBound.check(plan).isEmpty)
        #expect(
            try PortPreflight(boundPorts: { [HostPort(53, .udp)] }).check(plan) == [
                PortConflict(port: 53, proto: .udp, deckies: ["a"], reason: .bound)
            ]
        )
        let quiet = try Self.plan([.init(name: "a", services: ["dns"], forwards: false)], catalog: catalog)
        let refusing = PortPreflight(boundPorts: { () throws(ComposeError) in
            throw ComposeError(.hostPortsUnreadable, "must not be asked")
        })
        #expect(try refusing.check(quiet).isEmpty)
        #expect(throws: ComposeError.self) { try refusing.check(plan) }
    }

    /// DECNET's master-side PORT_COLLISION cases: every port it warns about, we refuse as bound, for the same
    /// first gateway; we never refuse a port it does not consider.
    @Test(arguments: VectorCase.load("port_collision.json"))
    func agreesWithDecnetsWarningOnBoundPorts(_ c: VectorCase) throws {
        let plan = try Self.composer.compose(try #require(c["input"]))
        let listening = Set(
            (c["bound_listen_ports"]?.arrayValue ?? []).compactMap { $0.intValue }.map { HostPort($0, .tcp) }
        )
        let bound = try PortPreflight(boundPorts: { listening }).check(plan).filter { $0.reason == .bound }
        let issues = try #require(c["issues"]?.arrayValue)
        #expect(bound.map(\.port) == issues.compactMap { $0["target"]?["port"]?.intValue })
        #expect(bound.map { $0.deckies.first } == issues.map { $0["target"]?["decky"]?.stringValue })
    }

    @Test func portCollisionVectorsLoaded() {
        #expect(VectorCase.load("port_collision.json").count == 4)
    }
}
