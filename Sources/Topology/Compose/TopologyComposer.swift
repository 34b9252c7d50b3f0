import DecnetJSON

/// Turns a hydrated topology into a `ComposePlan`, following DECNET's `generate_topology_compose` rule for rule
/// (docs/deviations.md#contract), plus the topology labels DECNET added later
/// (docs/deviations.md#labels-and-project-names).
///
/// Each decky becomes a base container holding its LAN addresses (`sleep infinity`, `NET_ADMIN`, IP forwarding and
/// host port publications when it forwards L3), followed by one container per catalog service sharing the base's
/// network namespace. Seed quirks are kept on purpose: ports are not de-duplicated in the document, UDP services are
/// published as TCP, a repeated service name overwrites the earlier fragment, fleet singletons are skipped.
public struct TopologyComposer: Sendable {
    /// DECNET's seed base image for decky containers and the default `BASE_IMAGE` build argument.
    public static let defaultBaseImage = "debian:bookworm-slim"
    /// Docker name prefix length taken from the topology id (``TopologyNaming``).
    public static let prefixLength = TopologyNaming.idPrefixLength

    public let catalog: ServiceCatalog
    /// Folder holding one build context per catalog template (`<root>/ssh`).
    public let templatesRoot: String
    public let baseImage: String

    /// - Parameters:
    ///   - templatesRoot: folder of the services' build contexts; a trailing `/` is ignored.
    ///   - baseImage: replaces `debian:bookworm-slim` everywhere, for hosts that pull through a mirror.
    public init(catalog: ServiceCatalog = .default, templatesRoot: String, baseImage: String = defaultBaseImage) {
        self.catalog = catalog
        var root = templatesRoot
        while root.utf8.count > 1, root.utf8.last == UInt8(ascii: "/") {
            root = String(decoding: root.utf8.dropLast(), as: UTF8.self)
        }
        self.templatesRoot = root
        self.baseImage = baseImage
    }

    static let restartPolicy = "unless-stopped"
    static let logging = ContainerSpec.LoggingConfig(
        driver: "json-file",
        options: [KeyValue("max-size", "10m"), KeyValue("max-file", "5")]
    )

    /// Composes the plan. Throws for what DECNET's composer raises on (an `ips_by_lan` LAN that does not exist, a
    /// service the catalog lacks) and for shapes it cannot read; a validated topology only fails on `files` paths.
    public func compose(_ hydrated: JSONValue) throws(ComposeError) -> ComposePlan {
        let root = try HydratedInput.object(hydrated, at: "")
        let topology = try HydratedInput.object(root["topology"], at: "/topology")
        // A non-string id is refused (docs/deviations.md#non-string-names).
        let topologyID = try HydratedInput.string(topology["id"], at: "/topology/id").value
        let naming = TopologyNaming(topologyID: topologyID)

        let lans = try readLANs(root["lans"], naming: naming)
        var builder = DocumentBuilder()
        for (i, decky) in try HydratedInput.iterated(root["deckies"], at: "/deckies").enumerated() {
            try composeDecky(decky, at: "/deckies/\(i)", lans: lans, naming: naming, into: &builder)
        }

        var networks = JSONObject()
        for bridge in lans.bridges {
            networks[bridge.name] = .object(["external": true, "name": JSONValue(bridge.name)])
        }
        let document: JSONValue = .object([
            "version": "3.8", "services": .object(builder.services), "networks": .object(networks),
        ])
        let teardown = lans.bridges.map { JSONString($0.lanName) }.sorted(by: >).map(naming.network)
        return ComposePlan(
            topologyID: topologyID,
            prefix: naming.prefix,
            projectName: naming.projectName,
            composeFileName: naming.composeFileName,
            document: document,
            bridges: lans.bridges,
            teardownOrder: teardown,
            containers: builder.containers
        )
    }

    /// The LAN names (for `ips_by_lan` lookups) and one bridge per LAN in list order.
    struct LANs {
        var names: Set<JSONString> = []
        var bridges: [BridgeSpec] = []
    }

    func readLANs(_ value: JSONValue?, naming: Naming) throws(ComposeError) -> LANs {
        var lans = LANs()
        for (i, lan) in try HydratedInput.iterated(value, at: "/lans").enumerated() {
            let path = "/lans/\(i)"
            let o = try HydratedInput.object(lan, at: path)
            let name = try HydratedInput.string(o["name"], at: path + "/name")
            let subnet = try HydratedInput.subnet(o["subnet"], at: path + "/subnet")
            lans.names.insert(name)
            lans.bridges.append(
                BridgeSpec(
                    name: naming.network(name),
                    subnet: subnet,
                    internal: !(o["is_dmz"]?.isTruthy ?? false),
                    lanName: name.value
                )
            )
        }
        return lans
    }

    typealias Naming = TopologyNaming

    /// The `services` object and the matching container list, with Python dict semantics: re-using a key replaces
    /// the earlier entry in its first position.
    struct DocumentBuilder {
        var services = JSONObject()
        var containers: [ContainerSpec] = []
        private var positions: [JSONString: Int] = [:]

        mutating func add(_ key: String, fragment: JSONObject, container: ContainerSpec) {
            let k = JSONString(key)
            services[k] = .object(fragment)
            if let i = positions[k] {
                containers[i] = container
            } else {
                positions[k] = containers.count
                containers.append(container)
            }
        }
    }
}
