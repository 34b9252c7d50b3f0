import DecnetJSON
import Hashing
import Topology

/// One planned container as the Engine API wants it: the `POST /containers/create` body, the bridges to connect
/// before start, and the config hash that decides whether an existing container still matches.
struct ContainerBlueprint: Sendable {
    var spec: ContainerSpec
    /// The create body, config-hash label included.
    var body: JSONValue
    /// Bridges after the first (API 1.41 takes one endpoint at create), connected with their static IPv4 before start.
    var extraNetworks: [ContainerSpec.NetworkAttachment]
    /// SHA-256 of the create body (without the hash label), the extra networks and the image id.
    var configHash: String
    /// The base container whose network namespace a service container joins.
    var baseName: String?

    var name: String { spec.containerName }

    /// The blueprint of `spec`, running `image`; `baseName` for a service container.
    static func make(
        _ spec: ContainerSpec,
        plan: ComposePlan,
        image: ResolvedImage,
        baseName: String?,
        composeFile: String,
        workingDirectory: String
    ) -> ContainerBlueprint {
        var config = JSONObject()
        config["Image"] = JSONValue(image.reference)
        if let hostname = spec.hostname, baseName == nil { config["Hostname"] = JSONValue(hostname) }
        if let command = spec.command { config["Cmd"] = JSONValue(command) }
        let environment = spec.environment.compactMap { variable in variable.value.map { "\(variable.name)=\($0)" } }
        if !environment.isEmpty { config["Env"] = JSONValue(environment) }

        var host = JSONObject()
        host["Init"] = .bool(true)
        host["RestartPolicy"] = restartPolicy(spec.restart)
        if !spec.capAdd.isEmpty { host["CapAdd"] = JSONValue(spec.capAdd) }
        if !spec.sysctls.isEmpty { host["Sysctls"] = RuntimeLabels.object(keyValues(spec.sysctls)) }
        host["LogConfig"] = [
            "Type": JSONValue(spec.logging.driver), "Config": RuntimeLabels.object(keyValues(spec.logging.options)),
        ]
        if !spec.volumes.isEmpty { host["Binds"] = JSONValue(spec.volumes) }

        var extraNetworks: [ContainerSpec.NetworkAttachment] = []
        if let baseName {
            host["NetworkMode"] = JSONValue("container:" + baseName)
        } else {
            let ports = publications(spec.ports)
            if !ports.exposed.isEmpty {
                config["ExposedPorts"] = .object(ports.exposed)
                host["PortBindings"] = .object(ports.bindings)
            }
            switch spec.network {
            case .bridges(let attachments) where !attachments.isEmpty:
                let first = attachments[0]
                host["NetworkMode"] = JSONValue(first.network)
                config["NetworkingConfig"] = [
                    "EndpointsConfig": .object(
                        JSONObject([(JSONString(first.network), endpoint(first, alias: spec.serviceKey))])
                    )
                ]
                extraNetworks = Array(attachments.dropFirst())
            case .bridges, .service:
                // A base without any LAN is isolated rather than put on Docker's default bridge.
                host["NetworkMode"] = "none"
            }
        }
        config["HostConfig"] = .object(host)

        var labels = RuntimeLabels.container(
            spec,
            plan: plan,
            composeFile: composeFile,
            workingDirectory: workingDirectory
        )
        config["Labels"] = RuntimeLabels.object(labels)
        let hashed: JSONValue = [
            "create": .object(config),
            "connect": .array(extraNetworks.map { [JSONValue($0.network), JSONValue($0.ipv4Address)] }),
            "image_id": JSONValue(image.id),
        ]
        let hash = SHA256.hex(PythonJSONEncoder.canonical.encode(hashed))
        labels[RuntimeLabels.configHash] = hash
        config["Labels"] = RuntimeLabels.object(labels)
        return ContainerBlueprint(
            spec: spec,
            body: .object(config),
            extraNetworks: extraNetworks,
            configHash: hash,
            baseName: baseName
        )
    }

    /// The endpoint settings of one bridge: the static address and the service key as a DNS alias (as compose).
    static func endpoint(_ attachment: ContainerSpec.NetworkAttachment, alias: String) -> JSONValue {
        ["IPAMConfig": ["IPv4Address": JSONValue(attachment.ipv4Address)], "Aliases": JSONValue([alias])]
    }

    /// Compose's `restart` value as Docker's `RestartPolicy`: `no`, `always`, `unless-stopped`, `on-failure[:N]`.
    static func restartPolicy(_ text: String) -> JSONValue {
        if text.hasPrefix("on-failure") {
            let count = text.split(separator: ":", maxSplits: 1).dropFirst().first.flatMap { Int($0) } ?? 0
            return ["Name": "on-failure", "MaximumRetryCount": JSONValue(count)]
        }
        return ["Name": JSONValue(text.isEmpty ? "no" : text), "MaximumRetryCount": 0]
    }

    /// `ExposedPorts` and `PortBindings`: host port on every address to the container port, per protocol; several
    /// host ports for one container port become several bindings.
    static func publications(_ ports: [PortMapping]) -> (exposed: JSONObject, bindings: JSONObject) {
        var exposed = JSONObject()
        var bindings = JSONObject()
        for port in ports {
            let key = "\(port.containerPort)/\(port.proto.rawValue)"
            exposed[key] = .object(JSONObject())
            let binding: JSONValue = ["HostIp": "", "HostPort": JSONValue(String(port.hostPort))]
            bindings[key] = .array((bindings[key]?.arrayValue ?? []) + [binding])
        }
        return (exposed, bindings)
    }

    static func keyValues(_ pairs: [KeyValue]) -> [String: String] {
        var map: [String: String] = [:]
        for pair in pairs { map[pair.key] = pair.value }
        return map
    }
}
