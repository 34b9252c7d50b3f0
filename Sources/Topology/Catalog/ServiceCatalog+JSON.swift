import DecnetJSON

extension ServiceCatalog {
    /// The catalog as a schema-version-1 document, the shape `catalog/services.json` has (a starting point for an
    /// operator's `--catalog` file). Reading it back gives an equal catalog.
    public var jsonValue: JSONValue {
        var services = JSONObject()
        for s in self.services { services[s.name] = s.jsonValue }
        return .object(["catalog_version": JSONValue(Self.version), "services": .object(services)])
    }
}

extension ServiceDefinition {
    /// This definition as a catalog `services` member.
    public var jsonValue: JSONValue {
        var o = JSONObject()
        o["tcp_ports"] = .array(tcpPorts.map { JSONValue($0) })
        o["udp_ports"] = .array(udpPorts.map { JSONValue($0) })
        switch source {
        case .build(let template, let args):
            var build: JSONObject = ["template": JSONValue(template)]
            if !args.isEmpty { build["args"] = args.jsonObject }
            o["build"] = .object(build)
        case .image(let image):
            o["image"] = JSONValue(image)
        }
        o["container_suffix"] = JSONValue(containerSuffix)
        o["cap_add"] = JSONValue(capAdd)
        o["environment"] = .array(environment.map(\.jsonValue))
        o["volumes"] = JSONValue(volumes)
        if !labels.isEmpty { o["labels"] = labels.jsonObject }
        if let command { o["command"] = JSONValue(command) }
        o["fleet_singleton"] = .bool(fleetSingleton)
        return .object(o)
    }
}

extension ServiceDefinition.EnvironmentRule {
    var jsonValue: JSONValue {
        var o: JSONObject = ["name": JSONValue(name)]
        switch kind {
        case .constant(let text):
            o["value"] = JSONValue(text)
        case .knob(let knob, let conversion, let defaultValue):
            o["knob"] = JSONValue(knob)
            if conversion != .asIs { o["convert"] = JSONValue(conversion.rawValue) }
            if let defaultValue { o["default"] = defaultValue }
        case .mountDirectory(let knob, let mountPoint):
            o["knob"] = JSONValue(knob)
            o["convert"] = "mount_dir"
            o["mount"] = JSONValue(mountPoint)
        }
        return .object(o)
    }
}

extension Array where Element == KeyValue {
    var jsonObject: JSONValue {
        .object(JSONObject(map { (JSONString($0.key), JSONValue($0.value)) }))
    }
}
