import DecnetJSON

extension TopologyComposer {
    /// The base container of one decky, then its service containers.
    func composeDecky(
        _ value: JSONValue,
        at path: String,
        lans: LANs,
        naming: Naming,
        into builder: inout DocumentBuilder
    ) throws(ComposeError) {
        let decky = try HydratedInput.object(value, at: path)
        let cfgPath = path + "/decky_config"
        let cfg = try HydratedInput.object(decky["decky_config"], at: cfgPath)
        // A non-string name is refused (docs/deviations.md#non-string-names).
        let name = try HydratedInput.string(cfg["name"], at: cfgPath + "/name").value
        let ipsByLAN = try HydratedInput.object(cfg["ips_by_lan"], at: cfgPath + "/ips_by_lan")
        let forwardsL3 = cfg["forwards_l3"]?.isTruthy ?? false
        let serviceNames = try HydratedInput.strings(decky["services"], at: path + "/services")
        // `cfg.get("service_config", {}) or {}`: only looked into (with `.get`) once a service is composed.
        var serviceConfig: JSONValue? = cfg["service_config"]
        if serviceConfig?.isTruthy != true { serviceConfig = Optional.none }

        // Networks, in ips_by_lan order; two LAN names that lower-case alike share (and overwrite) one entry.
        var networks = JSONObject()
        var attachments: [ContainerSpec.NetworkAttachment] = []
        for (lan, ip) in ipsByLAN.members {
            let ipPath = HydratedInput.pointer(cfgPath + "/ips_by_lan", lan.value)
            guard lans.names.contains(lan) else {
                throw ComposeError(
                    .unknownLAN,
                    "decky \(PythonText.reprString(name)) references unknown LAN \(PythonText.reprString(lan.value))",
                    path: ipPath
                )
            }
            let network = naming.network(lan)
            networks[network] = .object(["ipv4_address": ip])
            let attachment = ContainerSpec.NetworkAttachment(
                network: network,
                lanName: lan.value,
                ipv4Address: try HydratedInput.ipv4(ip, at: ipPath)
            )
            if let i = attachments.firstIndex(where: { $0.network.sameScalars(as: network) }) {
                attachments[i] = attachment
            } else {
                attachments.append(attachment)
            }
        }

        // Services of this decky, resolved once; an unknown name fails as DECNET's registry lookup does.
        var definitions: [ServiceDefinition] = []
        for (i, svc) in serviceNames.enumerated() {
            guard let def = catalog.service(named: svc) else {
                throw ComposeError(
                    .unknownService,
                    "decky \(PythonText.reprString(name)) uses unknown service \(PythonText.reprString(svc.value))",
                    path: "\(path)/services/\(i)"
                )
            }
            if !def.fleetSingleton { definitions.append(def) }
        }

        let labels = [
            KeyValue("decnet.topology.id", naming.topologyID), KeyValue("decnet.topology.decky", name),
            KeyValue("decnet.topology.role", "base"),
        ]
        var base: JSONObject = [
            "image": JSONValue(baseImage),
            "container_name": JSONValue(naming.baseContainer(name)),
            "hostname": JSONValue(name),
            "command": ["sleep", "infinity"],
            "restart": JSONValue(Self.restartPolicy),
            "networks": .object(networks),
            "cap_add": ["NET_ADMIN"],
            "logging": Self.loggingJSON,
            "labels": labels.jsonObject,
        ]
        var sysctls: [KeyValue] = []
        var ports: [PortMapping] = []
        if forwardsL3 {
            base["sysctls"] = .object(["net.ipv4.ip_forward": 1])
            sysctls = [KeyValue("net.ipv4.ip_forward", "1")]
            ports =
                definitions.flatMap { $0.tcpPorts.map { PortMapping(hostPort: $0, containerPort: $0, proto: .tcp) } }
                + definitions.flatMap { $0.udpPorts.map { PortMapping(hostPort: $0, containerPort: $0, proto: .udp) } }
            if !ports.isEmpty { base["ports"] = .array(ports.map { JSONValue($0.composeText) }) }
        }
        builder.add(
            name,
            fragment: base,
            container: ContainerSpec(
                serviceKey: name,
                containerName: naming.baseContainer(name),
                decky: name,
                role: .base,
                serviceName: nil,
                image: .image(baseImage),
                hostname: name,
                network: .bridges(attachments),
                environment: [],
                capAdd: ["NET_ADMIN"],
                sysctls: sysctls,
                ports: ports,
                volumes: [],
                labels: labels,
                command: ["sleep", "infinity"],
                restart: Self.restartPolicy,
                logging: Self.logging,
                dependsOn: []
            )
        )

        for def in definitions {
            var entry: JSONValue?
            if let serviceConfig {
                // `service_config.get(svc, {})`: only an object has `.get`.
                entry = try HydratedInput.object(serviceConfig, at: cfgPath + "/service_config")[def.name]
            }
            let (fragment, container) = try serviceContainer(
                def,
                decky: name,
                knobs: ServiceKnobs(entry),
                knobsPath: HydratedInput.pointer(cfgPath + "/service_config", def.name.value),
                naming: naming
            )
            builder.add(container.serviceKey, fragment: fragment, container: container)
        }
    }

    static let loggingJSON: JSONValue = .object([
        "driver": JSONValue(logging.driver),
        "options": logging.options.jsonObject,
    ])
}
