import DecnetJSON

/// The Docker names of one topology, the one place they are made (docs/deviations.md#labels-and-project-names):
/// the first 8 code points of the topology id (`prefix`), then
///
/// * networks `decnet_t_<prefix>_<LAN name lower-cased as Python does>`,
/// * base containers `decnet_t_<prefix>_<decky>` (case kept; service containers are `<decky>-<service>`),
/// * the compose project `decnet-topo-<prefix>` and its file `decnet-topology-<prefix>-compose.yml`.
public struct TopologyNaming: Sendable, Hashable {
    /// What every network and base container name starts with.
    public static let namePrefix = "decnet_t_"
    /// How many leading code points of the topology id the names use.
    public static let idPrefixLength = 8

    public let topologyID: String
    public let prefix: String

    public init(topologyID: String) {
        self.topologyID = topologyID
        prefix = String(String.UnicodeScalarView(topologyID.unicodeScalars.prefix(Self.idPrefixLength)))
    }

    /// Bytes every network or base container name of a topology whose id prefix is `idPrefix` starts with.
    public static func leadingBytes(idPrefix: String?) -> Int {
        namePrefix.utf8.count + (idPrefix?.utf8.count ?? idPrefixLength) + 1
    }

    public var projectName: String { "decnet-topo-\(prefix)" }
    public var composeFileName: String { "decnet-topology-\(prefix)-compose.yml" }

    /// `decnet_t_<prefix>_<lan lower-cased as Python does>`.
    public func network(_ lanName: String) -> String { Self.namePrefix + prefix + "_" + PythonText.lower(lanName) }

    /// `decnet_t_<prefix>_<decky>` (case kept).
    public func baseContainer(_ decky: String) -> String { Self.namePrefix + prefix + "_" + decky }
}

extension TopologyNaming {
    func network(_ lanName: JSONString) -> String { network(lanName.value) }
}
