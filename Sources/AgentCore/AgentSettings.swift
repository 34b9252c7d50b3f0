import AgentProtocol
import Topology

/// What the agent core needs to know about its host and its tools.
public struct AgentSettings: Sendable {
    public var agentID: String
    public var agentVersion: String
    /// New each time the agent process starts.
    public var bootID: String
    /// Holds `agent.db` and `topologies/` (the compose documents written for operators).
    public var stateDirectory: String
    public var catalog: ServiceCatalog
    public var templatesRoot: String
    public var baseImage: String
    public var heartbeatIntervalMillis: Int
    /// Where `files` knobs may point; the state directory is always protected.
    public var files: FilesConfinement
    /// Answers `rotate_key`; `nil`: the agent refuses it (`key_rotation_failed`).
    public var keyRotation: (any AgentKeyRotation)?

    public init(
        agentID: String,
        agentVersion: String,
        bootID: String,
        stateDirectory: String,
        catalog: ServiceCatalog = .default,
        templatesRoot: String,
        baseImage: String = TopologyComposer.defaultBaseImage,
        heartbeatIntervalMillis: Int = 10_000,
        filesRoot: String = FilesConfinement.defaultRoot,
        protectedPaths: [String] = []
    ) {
        self.files = FilesConfinement(root: filesRoot, protectedPaths: protectedPaths + [stateDirectory])
        self.agentID = agentID
        self.agentVersion = agentVersion
        self.bootID = bootID
        self.stateDirectory = stateDirectory
        self.catalog = catalog
        self.templatesRoot = templatesRoot
        self.baseImage = baseImage
        self.heartbeatIntervalMillis = heartbeatIntervalMillis
    }

    public var composer: TopologyComposer {
        TopologyComposer(catalog: catalog, templatesRoot: templatesRoot, baseImage: baseImage)
    }

    public var validator: TopologyValidator { TopologyValidator(knownServices: catalog.topologyServiceNames) }

    public var topologiesDirectory: String { stateDirectory + "/topologies" }
}
