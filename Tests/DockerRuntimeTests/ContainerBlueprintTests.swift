import DecnetJSON
import DockerEngine
import TestSupport
import Testing
import Topology

@testable import DockerRuntime

/// The create bodies and config hashes the runtime derives from a plan, without a daemon.
@Suite struct ContainerBlueprintTests {
    static let catalog: ServiceCatalog = {
        let json: JSONValue = [
            "catalog_version": 1,
            "services": [
                "web": [
                    "tcp_ports": [8080, 8443], "udp_ports": [5353], "image": "example/web:1", "container_suffix": "web",
                    "command": ["httpd", "-f"], "environment": [["name": "NODE_NAME", "value": "{decky}"]],
                    "volumes": ["/srv/{decky}:/data:ro"], "cap_add": ["NET_BIND_SERVICE"],
                ],
                "tls": ["tcp_ports": [8443], "image": "example/web:1", "container_suffix": "tls"],
                "probe": ["build": ["template": "probe"], "container_suffix": "probe"],
            ],
        ]
        return try! ServiceCatalog(json: json)
    }()

    static func plan(_ topology: DockerTestTopology) throws -> ComposePlan {
        try TopologyComposer(catalog: catalog, templatesRoot: "/templates", baseImage: "example/base:1")
            .compose(topology.hydrated).mergingDuplicatePorts()
    }

    static func topology(gatewayHost: Int = 2, env: JSONValue? = nil) -> DockerTestTopology {
        DockerTestTopology(
            id: "abcdef0123456789",
            lans: [
                .init(name: "DMZ", subnet: "10.1.0.0/24", prefix: "10.1.0.", dmz: true),
                .init(name: "inner", subnet: "10.2.0.0/24", prefix: "10.2.0.", dmz: false),
            ],
            deckies: [
                .init(
                    name: "gw",
                    services: ["web", "tls"],
                    addresses: [("DMZ", gatewayHost), ("inner", 2)],
                    forwards: true,
                    serviceConfig: env
                ),
                .init(name: "db", services: ["probe"], addresses: [("inner", 3)]),
            ]
        )
    }

    static func blueprints(_ plan: ComposePlan, imageID: String = "sha256:aaa") -> [String: ContainerBlueprint] {
        var result: [String: ContainerBlueprint] = [:]
        for spec in plan.containers {
            let baseName: String?
            if case .service(let key) = spec.network {
                baseName = plan.container(serviceKey: key)?.containerName
            } else {
                baseName = nil
            }
            result[spec.containerName] = .make(
                spec,
                plan: plan,
                image: ResolvedImage(reference: "ref:\(spec.serviceKey)", id: imageID),
                baseName: baseName,
                composeFile: "/state/topologies/\(plan.composeFileName)",
                workingDirectory: "/state/topologies"
            )
        }
        return result
    }

    @Test func baseContainerBody() throws {
        let plan = try Self.plan(Self.topology())
        let base = try #require(Self.blueprints(plan)["decnet_t_abcdef01_gw"])
        let body = base.body
        #expect(body["Image"]?.stringValue == "ref:gw")
        #expect(body["Hostname"]?.stringValue == "gw")
        #expect(body["Cmd"] == ["sleep", "infinity"])
        let host = try #require(body["HostConfig"])
        #expect(host["Init"] == .bool(true))
        #expect(host["RestartPolicy"] == ["Name": "unless-stopped", "MaximumRetryCount": 0])
        #expect(host["CapAdd"] == ["NET_ADMIN"])
        #expect(host["Sysctls"] == ["net.ipv4.ip_forward": "1"])
        #expect(host["LogConfig"] == ["Type": "json-file", "Config": ["max-file": "5", "max-size": "10m"]])
        #expect(host["NetworkMode"]?.stringValue == "decnet_t_abcdef01_dmz")
        // web and tls both publish 8443: merged by the plan, so one binding.
        #expect(body["ExposedPorts"] == ["8080/tcp": [:], "8443/tcp": [:], "5353/udp": [:]])
        #expect(host["PortBindings"]?["8443/tcp"] == [["HostIp": "", "HostPort": "8443"]])
        #expect(host["PortBindings"]?["5353/udp"] == [["HostIp": "", "HostPort": "5353"]])
        let endpoint = body["NetworkingConfig"]?["EndpointsConfig"]?["decnet_t_abcdef01_dmz"]
        #expect(endpoint?["IPAMConfig"]?["IPv4Address"]?.stringValue == "10.1.0.2")
        #expect(endpoint?["Aliases"] == ["gw"])
        #expect(base.extraNetworks.map(\.network) == ["decnet_t_abcdef01_inner"])
        #expect(base.extraNetworks.map(\.ipv4Address) == ["10.2.0.2"])

        let labels = try #require(body["Labels"]?.objectValue)
        #expect(labels["decnet.topology.id"]?.stringValue == "abcdef0123456789")
        #expect(labels["decnet.topology.role"]?.stringValue == "base")
        #expect(labels["com.docker.compose.project"]?.stringValue == "decnet-topo-abcdef01")
        #expect(labels["com.docker.compose.service"]?.stringValue == "gw")
        #expect(labels["com.docker.compose.container-number"]?.stringValue == "1")
        #expect(labels["com.docker.compose.oneoff"]?.stringValue == "False")
        #expect(
            labels["com.docker.compose.project.config_files"]?.stringValue
                == "/state/topologies/decnet-topology-abcdef01-compose.yml"
        )
        #expect(labels["com.docker.compose.config-hash"]?.stringValue == base.configHash)
        #expect(base.configHash.count == 64)
    }

    @Test func serviceContainerJoinsTheBaseNamespace() throws {
        let plan = try Self.plan(Self.topology())
        let web = try #require(Self.blueprints(plan)["gw-web"])
        let host = try #require(web.body["HostConfig"])
        #expect(host["NetworkMode"]?.stringValue == "container:decnet_t_abcdef01_gw")
        #expect(web.body["Hostname"] == nil && web.body["ExposedPorts"] == nil && host["PortBindings"] == nil)
        #expect(web.body["NetworkingConfig"] == nil && web.extraNetworks.isEmpty)
        #expect(web.body["Cmd"] == ["httpd", "-f"])
        #expect(web.body["Env"] == ["NODE_NAME=gw", "HOSTNAME=gw"])
        #expect(host["Binds"] == ["/srv/gw:/data:ro"])
        #expect(host["CapAdd"] == ["NET_BIND_SERVICE"])
        #expect(host["Init"] == .bool(true))
        #expect(web.body["Labels"]?["decnet.topology.service"]?.stringValue == "true")
        #expect(web.body["Labels"]?["com.docker.compose.service"]?.stringValue == "gw-web")
        #expect(web.baseName == "decnet_t_abcdef01_gw")
    }

    @Test func configHashFollowsWhatTheContainerIsCreatedFrom() throws {
        let original = Self.blueprints(try Self.plan(Self.topology()))
        let again = Self.blueprints(try Self.plan(Self.topology()))
        let moved = Self.blueprints(try Self.plan(Self.topology(gatewayHost: 9)))
        let newImage = Self.blueprints(try Self.plan(Self.topology()), imageID: "sha256:bbb")
        for name in original.keys { #expect(original[name]?.configHash == again[name]?.configHash) }
        // Moving the gateway's DMZ address changes the gateway only; its services keep their hash (their base is
        // named, not addressed), and always-recreate-deps recreates them anyway.
        #expect(moved["decnet_t_abcdef01_gw"]?.configHash != original["decnet_t_abcdef01_gw"]?.configHash)
        #expect(moved["gw-web"]?.configHash == original["gw-web"]?.configHash)
        #expect(moved["decnet_t_abcdef01_db"]?.configHash == original["decnet_t_abcdef01_db"]?.configHash)
        // A re-pulled or rebuilt image (same reference, new id) is a change.
        #expect(newImage["gw-web"]?.configHash != original["gw-web"]?.configHash)
    }

    @Test(arguments: [
        ("unless-stopped", "unless-stopped", 0), ("always", "always", 0), ("no", "no", 0), ("", "no", 0),
        ("on-failure", "on-failure", 0), ("on-failure:3", "on-failure", 3),
    ])
    func restartPolicies(_ text: String, _ name: String, _ count: Int) {
        #expect(
            ContainerBlueprint.restartPolicy(text) == ["Name": JSONValue(name), "MaximumRetryCount": JSONValue(count)]
        )
    }

    @Test func severalHostPortsForOneContainerPortAreSeveralBindings() {
        let (exposed, bindings) = ContainerBlueprint.publications([
            PortMapping(hostPort: 80, containerPort: 80), PortMapping(hostPort: 8080, containerPort: 80),
            PortMapping(hostPort: 53, containerPort: 53, proto: .udp),
        ])
        #expect(exposed.keys.map(\.value) == ["80/tcp", "53/udp"])
        #expect(bindings["80/tcp"] == [["HostIp": "", "HostPort": "80"], ["HostIp": "", "HostPort": "8080"]])
    }

    @Test(arguments: [
        ("/opt/decnet/templates/ssh", "decnet-build/ssh:0123456789ab"),
        ("/t/Docker_API", "decnet-build/docker-api:0123456789ab"),
        ("/t/a..b--c", "decnet-build/a-b-c:0123456789ab"),
        ("/t/___", "decnet-build/context:0123456789ab"),
        ("/", "decnet-build/context:0123456789ab"),
    ])
    func buildTags(_ context: String, _ tag: String) {
        #expect(DockerTopologyRuntime.buildTag(context: context, hash: "0123456789abcdef") == tag)
    }

    @Test(arguments: [
        ("busybox", false), ("busybox:1.36", true), ("registry:5000/team/app", false), ("registry:5000/app:2", true),
        ("app@sha256:abc", true), ("debian:bookworm-slim@sha256:f9c6", true),
    ])
    func tagOrDigest(_ reference: String, _ expected: Bool) {
        #expect(DockerTopologyRuntime.hasTagOrDigest(reference) == expected)
    }
}
