import DecnetJSON
import DockerEngine
import DockerRuntime
import Foundation
import LiveTestSupport
import Synchronization
import TestSupport
import Testing
import Topology

/// Shared setup for the runtime's tests against the real daemon: unique topology ids, deckies, subnets and ports
/// per test (other engineers' Docker tests run at the same time), a test catalog, and cleanup by label.
enum RuntimeTestEnvironment {
    /// Six random hex digits: topology ids use them as their 8-character prefix (`rt` + 6), deckies as a suffix,
    /// because service container names are not topology-scoped.
    static func token() -> String {
        String(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(6))
    }

    /// A /24 in 10.200.0.0 to 10.249.255.0 as (subnet, "10.x.y."), unlikely to meet another test's network.
    static func subnet() -> (subnet: String, prefix: String) {
        let prefix = "10.\(Int.random(in: 200...249)).\(Int.random(in: 0...255))."
        return (prefix + "0/24", prefix)
    }

    /// Distinct host ports below the kernel's ephemeral range (32768 and up) that nothing is bound to now.
    static func freePorts(_ count: Int) -> [Int] {
        let bound = (try? ProcNetSockets().boundPorts()) ?? []
        var ports: [Int] = []
        while ports.count < count {
            let port = Int.random(in: 20000...32000)
            if !ports.contains(port) && !bound.contains(HostPort(port, .tcp)) && !bound.contains(HostPort(port, .udp)) {
                ports.append(port)
            }
        }
        return ports
    }

    static func runtime(
        client: DockerClient,
        stateDirectory: String,
        retry: RetryPolicy = RetryPolicy(delays: [.milliseconds(5), .milliseconds(10)]),
        containerConcurrency: Int = 4,
        onRetry: (@Sendable (RetryPolicy.Retry) -> Void)? = nil
    ) -> DockerTopologyRuntime {
        DockerTopologyRuntime(
            client: client,
            configuration: .init(
                stateDirectory: stateDirectory,
                retry: retry,
                containerConcurrency: containerConcurrency,
                refreshDebounce: .milliseconds(50),
                onRetry: onRetry
            )
        )
    }
}

extension DockerTestTopology {
    /// A new topology id whose 8-character prefix is unique to this test.
    static func newID() -> String { "rt" + RuntimeTestEnvironment.token() + "-runtime-test" }

    /// `dmz` (published) and `lan-a` (internal), a forwarding gateway `gw…` on both with `web` and `echo`, and a
    /// host `h…` on `lan-a` running the built `probe` image.
    static func gatewayAndHost(id: String = newID()) -> DockerTestTopology {
        let token = RuntimeTestEnvironment.token()
        let dmz = RuntimeTestEnvironment.subnet()
        var inner = RuntimeTestEnvironment.subnet()
        while inner.subnet == dmz.subnet { inner = RuntimeTestEnvironment.subnet() }
        return DockerTestTopology(
            id: id,
            lans: [
                LAN(name: "DMZ", subnet: dmz.subnet, prefix: dmz.prefix, dmz: true),
                LAN(name: "lan-a", subnet: inner.subnet, prefix: inner.prefix, dmz: false),
            ],
            deckies: [
                Decky(
                    name: "gw\(token)",
                    services: ["web", "echo"],
                    addresses: [("DMZ", 2), ("lan-a", 2)],
                    forwards: true,
                    serviceConfig: ["web": ["level": "3"]]
                ),
                Decky(name: "h\(token)", services: ["probe"], addresses: [("lan-a", 3)]),
            ]
        )
    }
}

/// One test's world: a client, a state directory, a templates root with a `probe` build context, a catalog of
/// services running the busybox test image, and teardown of every topology the test applied.
final class RuntimeFixture: Sendable {
    let client: DockerClient
    let root: URL
    let webPort: Int
    let echoPort: Int
    let echoUDPPort: Int
    let catalog: ServiceCatalog
    /// What the `probe` context's Dockerfile carries, so every test builds its own image tag.
    let token: String
    /// Objects without our labels a test made on purpose, removed by ``cleanUp(_:)``.
    private let foreign = Mutex<(containers: [String], networks: [String])>(([], []))

    init(missingImage: String? = nil, badCapability: Bool = false) throws {
        client = DockerClient(configuration: .init(socketPath: DockerTestDaemon.socketPath))
        token = RuntimeTestEnvironment.token()
        root = FileManager.default.temporaryDirectory.appendingPathComponent("decnet-runtime-\(UUID().uuidString)")
        let probe = root.appendingPathComponent("templates/probe")
        try FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)
        try Data(
            """
            ARG BASE_IMAGE=unset
            FROM ${BASE_IMAGE}
            ARG BASE_IMAGE
            LABEL decnet.test.base-image=${BASE_IMAGE} decnet.test.token=\(token) decnet.test=1
            CMD ["sleep", "infinity"]

            """.utf8
        ).write(to: probe.appendingPathComponent("Dockerfile"))
        try Data(token.utf8).write(to: probe.appendingPathComponent("token.txt"))
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("state/topologies"),
            withIntermediateDirectories: true
        )

        let ports = RuntimeTestEnvironment.freePorts(3)
        webPort = ports[0]
        echoPort = ports[1]
        echoUDPPort = ports[2]
        catalog = try Self.catalog(
            webPort: webPort,
            echoPort: echoPort,
            echoUDPPort: echoUDPPort,
            missingImage: missingImage,
            badCapability: badCapability
        )
    }

    /// The test catalog: `web` (httpd) and `echo` on the busybox image, `probe` built from the templates root, and
    /// on request `ghost` (an image that does not exist) and `broken` (a capability Docker refuses).
    static func catalog(
        webPort: Int = 20080,
        echoPort: Int = 20081,
        echoUDPPort: Int = 20082,
        missingImage: String? = nil,
        badCapability: Bool = false
    ) throws -> ServiceCatalog {
        let image = DockerTestDaemon.busyboxImage
        var services: [String: JSONValue] = [
            "web": [
                "tcp_ports": [JSONValue(webPort)], "image": JSONValue(image), "container_suffix": "web",
                "command": ["httpd", "-f", "-p", JSONValue(String(webPort)), "-h", "/www"],
                "environment": [["name": "NODE_NAME", "value": "{decky}"], ["name": "LEVEL", "knob": "level"]],
            ],
            "echo": [
                "tcp_ports": [JSONValue(echoPort)], "udp_ports": [JSONValue(echoUDPPort)], "image": JSONValue(image),
                "container_suffix": "echo", "command": ["sleep", "infinity"], "cap_add": ["NET_BIND_SERVICE"],
            ],
            "probe": [
                "build": ["template": "probe"], "container_suffix": "probe",
                "labels": ["decnet.test.catalog": "probe"],
            ],
        ]
        if let missingImage {
            services["ghost"] = ["image": JSONValue(missingImage), "container_suffix": "ghost"]
        }
        if badCapability {
            services["broken"] = [
                "image": JSONValue(image), "container_suffix": "broken", "command": ["sleep", "infinity"],
                "cap_add": ["DECNET_NO_SUCH_CAPABILITY"],
            ]
        }
        let members = services.keys.sorted().map { (JSONString($0), services[$0]!) }
        return try ServiceCatalog(json: ["catalog_version": 1, "services": .object(JSONObject(members))])
    }

    var stateDirectory: String { root.appendingPathComponent("state").path }
    var templatesRoot: String { root.appendingPathComponent("templates").path }

    func runtime(
        retry: RetryPolicy = RetryPolicy(delays: [.milliseconds(5), .milliseconds(10)]),
        containerConcurrency: Int = 4,
        onRetry: (@Sendable (RetryPolicy.Retry) -> Void)? = nil
    ) -> DockerTopologyRuntime {
        RuntimeTestEnvironment.runtime(
            client: client,
            stateDirectory: stateDirectory,
            retry: retry,
            containerConcurrency: containerConcurrency,
            onRetry: onRetry
        )
    }

    /// The plan for `topology`, ports merged as the agent does.
    func plan(_ topology: DockerTestTopology) throws -> ComposePlan {
        let composer = TopologyComposer(
            catalog: catalog,
            templatesRoot: templatesRoot,
            baseImage: DockerTestDaemon.busyboxImage
        )
        return try composer.compose(topology.hydrated).mergingDuplicatePorts()
    }

    /// Writes the compose document where the agent would, for `docker-compose ps`.
    func writeComposeFile(_ plan: ComposePlan) throws -> String {
        let path = stateDirectory + "/topologies/" + plan.composeFileName
        try Data(ComposeYAML.render(plan.document).utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func removeAtCleanup(container id: String) { foreign.withLock { $0.containers.append(id) } }
    func removeAtCleanup(network id: String) { foreign.withLock { $0.networks.append(id) } }

    /// Tears down `topologyIDs` by label, removes the images this fixture built, the temporary folder, and shuts
    /// the client down. Called at the end of every test, whatever happened.
    func cleanUp(_ topologyIDs: [String]) async {
        let runtime = runtime()
        for id in topologyIDs {
            _ = try? await runtime.teardown(topologyID: id, teardownOrder: []) { _ in }
        }
        let (containers, networks) = foreign.withLock { $0 }
        for id in containers { try? await client.removeContainer(id, force: true) }
        for id in networks { try? await client.removeNetwork(id) }
        if let images = try? await client.listImages(filters: .label("decnet.test.token", token)) {
            for image in images { try? await client.removeImage(image.id, force: true) }
        }
        try? FileManager.default.removeItem(at: root)
        try? await client.shutdown()
    }
}

/// Runs `body` with a fixture and always cleans up the topologies it names.
func withFixture<T>(
    missingImage: String? = nil,
    badCapability: Bool = false,
    topologies: [String],
    _ body: (RuntimeFixture) async throws -> T
) async throws -> T {
    let fixture = try RuntimeFixture(missingImage: missingImage, badCapability: badCapability)
    let result: Result<T, any Error>
    do {
        result = .success(try await body(fixture))
    } catch {
        result = .failure(error)
    }
    await fixture.cleanUp(topologies)
    return try result.get()
}
