import DecnetJSON
import Topology

/// The labels the runtime puts on Docker objects and finds them by.
///
/// `decnet.topology.*` come from the composer (containers) or from here (networks); the `com.docker.compose.*` ones
/// make `docker compose -p decnet-topo-<id8> ps` see the containers as its own
/// (docs/deviations.md#labels-and-project-names).
public enum RuntimeLabels {
    /// The topology an object belongs to: the only label teardown and observation trust.
    public static let topologyID = "decnet.topology.id"
    /// The LAN a bridge network was made for.
    public static let lan = "decnet.topology.lan"
    /// `base` on the containers that own a decky's network namespace.
    public static let role = "decnet.topology.role"
    public static let composeProject = "com.docker.compose.project"
    public static let composeService = "com.docker.compose.service"
    public static let composeNetwork = "com.docker.compose.network"
    public static let composeContainerNumber = "com.docker.compose.container-number"
    public static let composeOneoff = "com.docker.compose.oneoff"
    public static let composeConfigFiles = "com.docker.compose.project.config_files"
    public static let composeWorkingDirectory = "com.docker.compose.project.working_dir"
    /// SHA-256 of what the container was created from (create body, extra networks, image id): a container whose
    /// hash differs from the plan's is recreated, as compose does with its own config hash.
    public static let configHash = "com.docker.compose.config-hash"
    /// Labels of images the runtime built: the context folder and the content hash of context and arguments.
    public static let buildContext = "decnet.build.context"
    public static let buildHash = "decnet.build.hash"

    /// The labels of the bridge network for `bridge`.
    static func network(_ bridge: BridgeSpec, plan: ComposePlan) -> [String: String] {
        [
            topologyID: plan.topologyID, lan: bridge.lanName, composeProject: plan.projectName,
            composeNetwork: bridge.name,
        ]
    }

    /// The container's own labels (later keys of the spec win) plus compose's, without the config hash.
    static func container(
        _ spec: ContainerSpec,
        plan: ComposePlan,
        composeFile: String,
        workingDirectory: String
    )
        -> [String: String]
    {
        var labels: [String: String] = [:]
        for label in spec.labels { labels[label.key] = label.value }
        labels[topologyID] = plan.topologyID
        labels[composeProject] = plan.projectName
        labels[composeService] = spec.serviceKey
        labels[composeContainerNumber] = "1"
        labels[composeOneoff] = "False"
        labels[composeConfigFiles] = composeFile
        labels[composeWorkingDirectory] = workingDirectory
        return labels
    }

    /// A string map as a JSON object with keys in code-point order, so equal maps give equal bytes.
    static func object(_ map: [String: String]) -> JSONValue {
        let keys = map.keys.sorted { JSONString($0) < JSONString($1) }
        return .object(JSONObject(keys.map { (JSONString($0), JSONValue(map[$0]!)) }))
    }

    /// Whether a Docker object with these labels belongs to `topology`.
    static func belongs(_ labels: [String: String], to topology: String) -> Bool {
        guard let owner = labels[topologyID] else { return false }
        return JSONString(owner) == JSONString(topology)
    }
}
