import DecnetJSON

/// Everything needed to materialise one hydrated topology on this host: the compose document (written for operators,
/// identical to DECNET's plus labels), the bridge networks in creation order, the teardown order, and the containers
/// as typed specifications the Docker runtime consumes.
public struct ComposePlan: Sendable, Hashable {
    /// `topology.id` as given.
    public var topologyID: String
    /// The first 8 code points of the id (the whole id when shorter), used in every Docker name.
    public var prefix: String
    /// Compose project that owns the containers: `decnet-topo-<prefix>`.
    public var projectName: String
    /// File name of the written document: `decnet-topology-<prefix>-compose.yml`.
    public var composeFileName: String
    /// The compose document: `version`, `services`, `networks`, member order as DECNET writes it.
    public var document: JSONValue
    /// One bridge per LAN in `lans` order (two LANs whose names differ only by case share a network name).
    public var bridges: [BridgeSpec]
    /// Network names to remove on teardown: LAN names in descending code-point order, mapped to network names.
    public var teardownOrder: [String]
    /// Base and service containers in document order (base₁, its services, base₂, ...).
    public var containers: [ContainerSpec]

    public init(
        topologyID: String,
        prefix: String,
        projectName: String,
        composeFileName: String,
        document: JSONValue,
        bridges: [BridgeSpec],
        teardownOrder: [String],
        containers: [ContainerSpec]
    ) {
        self.topologyID = topologyID
        self.prefix = prefix
        self.projectName = projectName
        self.composeFileName = composeFileName
        self.document = document
        self.bridges = bridges
        self.teardownOrder = teardownOrder
        self.containers = containers
    }

    /// The container with this compose service key.
    public func container(serviceKey: String) -> ContainerSpec? {
        containers.first { $0.serviceKey.utf8.elementsEqual(serviceKey.utf8) }
    }
}

/// A Docker bridge network for one LAN. Only the DMZ reaches the outside: every other LAN is `internal`.
public struct BridgeSpec: Sendable, Hashable {
    /// `decnet_t_<prefix>_<lan name lower-cased>`.
    public var name: String
    /// The LAN's subnet string, verbatim.
    public var subnet: String
    /// `not is_dmz` with Python truthiness.
    public var `internal`: Bool
    public var lanName: String

    public init(name: String, subnet: String, internal: Bool, lanName: String) {
        self.name = name
        self.subnet = subnet
        self.internal = `internal`
        self.lanName = lanName
    }
}
