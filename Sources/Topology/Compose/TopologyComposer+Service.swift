import DecnetJSON

extension TopologyComposer {
    /// One service container: the catalog fragment (build, container_name, restart, cap_add, environment, volumes,
    /// command, labels), then what the composer adds (HOSTNAME, network_mode, depends_on, logging, topology labels).
    func serviceContainer(
        _ def: ServiceDefinition,
        decky: String,
        knobs: ServiceKnobs,
        knobsPath: String,
        naming: Naming
    ) throws(ComposeError) -> (JSONObject, ContainerSpec) {
        var fragment = JSONObject()
        let image: ContainerSpec.ImageSource
        switch def.source {
        case .build(let template, var args):
            if !args.contains(where: { $0.key.sameScalars(as: "BASE_IMAGE") }) {
                args.append(KeyValue("BASE_IMAGE", baseImage))
            }
            let context = templatesRoot.sameScalars(as: "/") ? "/" + template : templatesRoot + "/" + template
            fragment["build"] = .object(["context": JSONValue(context), "args": args.jsonObject])
            image = .build(context: context, args: args)
        case .image(let reference):
            fragment["image"] = JSONValue(reference)
            image = .image(reference)
        }
        let containerName = "\(decky)-\(def.containerSuffix)"
        fragment["container_name"] = JSONValue(containerName)
        fragment["restart"] = JSONValue(Self.restartPolicy)
        if !def.capAdd.isEmpty { fragment["cap_add"] = JSONValue(def.capAdd) }

        var environment = JSONObject()
        var volumes = def.volumes.map { $0.replacingDecky(with: decky) }
        for rule in def.environment {
            switch rule.kind {
            case .constant(let text):
                environment[rule.name] = JSONValue(text.replacingDecky(with: decky))
            case .knob(let knob, let conversion, let defaultValue?):
                // `cfg.get(knob, default)`
                let value = try knobs.get(knob, default: defaultValue, service: def.name, at: knobsPath)
                environment[rule.name] = Self.convert(value, conversion)
            case .knob(let knob, let conversion, nil):
                // `if knob in cfg: env[...] = cfg[knob]`
                if let value = try knobs.ifPresent(knob, service: def.name, at: knobsPath) {
                    environment[rule.name] = Self.convert(value, conversion)
                }
            case .mountDirectory(let knob, let mountPoint):
                guard let value = try knobs.ifPresent(knob, service: def.name, at: knobsPath) else { continue }
                let host = try Self.hostFolder(value, at: HydratedInput.pointer(knobsPath, knob))
                environment[rule.name] = JSONValue(mountPoint)
                volumes.append("\(host):\(mountPoint):ro")
            }
        }
        // A plugin without environment gets one appended after its other members (Python's setdefault).
        if !def.environment.isEmpty { fragment["environment"] = .object(environment) }
        if !volumes.isEmpty { fragment["volumes"] = JSONValue(volumes) }
        if let command = def.command { fragment["command"] = JSONValue(command) }
        if !def.labels.isEmpty { fragment["labels"] = def.labels.jsonObject }

        environment["HOSTNAME"] = JSONValue(decky)
        fragment["environment"] = .object(environment)
        fragment["network_mode"] = JSONValue("service:\(decky)")
        fragment["depends_on"] = [JSONValue(decky)]
        fragment["logging"] = Self.loggingJSON
        var labels = JSONObject(def.labels.map { (JSONString($0.key), JSONValue($0.value)) })
        labels["decnet.topology.id"] = JSONValue(naming.topologyID)
        labels["decnet.topology.decky"] = JSONValue(decky)
        labels["decnet.topology.service_name"] = .string(def.name)
        labels["decnet.topology.service"] = "true"
        fragment["labels"] = .object(labels)

        let container = ContainerSpec(
            serviceKey: "\(decky)-\(def.name.value)",
            containerName: containerName,
            decky: decky,
            role: .service,
            serviceName: def.name.value,
            image: image,
            hostname: nil,
            network: .service(decky),
            environment: environment.members.map { .init($0.key.value, HydratedInput.environmentText($0.value)) },
            capAdd: def.capAdd,
            sysctls: [],
            ports: [],
            volumes: volumes,
            labels: labels.members.map { KeyValue($0.key.value, $0.value.stringValue ?? "") },
            command: def.command,
            restart: Self.restartPolicy,
            logging: Self.logging,
            dependsOn: [decky]
        )
        return (fragment, container)
    }

    /// A knob value as the plugin writes it into the environment.
    static func convert(_ value: JSONValue, _ conversion: ServiceDefinition.Conversion) -> JSONValue {
        switch conversion {
        case .asIs: return value
        case .pythonStr: return JSONValue(PythonText.str(value))
        case .jsonIfObject:
            if case .object = value { return JSONValue(PythonText.jsonDumps(value)) }
            return value
        }
    }

    /// The host side of a `files` mount. DECNET resolves the knob against its own working directory, which means
    /// nothing on an agent, so only absolute paths are accepted (docs/deviations.md#files-relative), without `:` or
    /// control characters (docs/deviations.md#files-volume-characters); they are normalised lexically (`.`, `..`,
    /// `//`) as `Path.resolve()` does for paths without symlinks (docs/deviations.md#files-symlinks).
    static func hostFolder(_ value: JSONValue, at path: String) throws(ComposeError) -> String {
        guard case .string(let s) = value else {
            throw ComposeError(.invalidFilesPath, "files must be a string path, found \(value.typeName)", path: path)
        }
        let text = s.value
        guard text.hasScalarPrefix("/") else {
            throw ComposeError(
                .invalidFilesPath,
                "files must be an absolute host path, found \(PythonText.reprString(text))",
                path: path
            )
        }
        guard !text.unicodeScalars.contains(where: { $0 == ":" || $0.value < 0x20 || $0.value == 0x7F }) else {
            throw ComposeError(
                .invalidFilesPath,
                "files cannot contain ':' or control characters (it becomes a volume string)",
                path: path
            )
        }
        var parts: [String] = []
        for part in text.splitScalars(UInt8(ascii: "/")) where !part.isEmpty && !part.sameScalars(as: ".") {
            if part.sameScalars(as: "..") {
                _ = parts.popLast()
            } else {
                parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}
