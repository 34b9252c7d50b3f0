import DecnetJSON

/// Strict reader for catalog schema version 1. Every failure names the JSON Pointer of the member at fault.
enum CatalogDecoder {
    static let serviceMembers: Set<String> = [
        "tcp_ports", "udp_ports", "build", "image", "container_suffix", "cap_add", "environment", "volumes", "labels",
        "command", "fleet_singleton",
    ]

    static func decode(_ json: JSONValue) throws(CatalogError) -> [ServiceDefinition] {
        let root = try object(json, at: "")
        try rejectUnknown(root, allowed: ["catalog_version", "services"], at: "")
        guard let version = root["catalog_version"] else {
            throw CatalogError(.unsupportedVersion, path: "/catalog_version", "catalog_version is required")
        }
        guard case .integer(let v) = version, v.intValue == ServiceCatalog.version else {
            throw CatalogError(
                .unsupportedVersion,
                path: "/catalog_version",
                "this build reads catalog_version \(ServiceCatalog.version), found \(version.jsonText)"
            )
        }
        let services = try object(try required(root, "services", at: ""), at: "/services")
        var result: [ServiceDefinition] = []
        for (name, value) in services.members {
            let path = "/services/" + pointerEscape(name.value)
            if name.isEmpty { throw CatalogError(.invalidValue, path: path, "a service name must not be empty") }
            result.append(try service(name, value, at: path))
        }
        return result
    }

    static func service(
        _ name: JSONString,
        _ value: JSONValue,
        at path: String
    ) throws(CatalogError) -> ServiceDefinition {
        let o = try object(value, at: path)
        try rejectUnknown(o, allowed: serviceMembers, at: path)
        let source: ServiceDefinition.Source
        switch (o["build"], o["image"]) {
        case (let build?, nil): source = try buildSource(build, at: path + "/build")
        case (nil, let image?): source = .image(try nonEmptyString(image, at: path + "/image"))
        case (nil, nil): throw CatalogError(.missingMember, path: path, "a service needs either build or image")
        case (_?, _?): throw CatalogError(.invalidValue, path: path + "/image", "build and image exclude each other")
        }
        var environment: [ServiceDefinition.EnvironmentRule] = []
        for (i, rule) in try array(o["environment"], at: path + "/environment").enumerated() {
            let rulePath = "\(path)/environment/\(i)"
            let parsed = try environmentRule(rule, at: rulePath)
            if environment.contains(where: { $0.name.sameScalars(as: parsed.name) }) {
                throw CatalogError(.invalidValue, path: rulePath + "/name", "duplicate variable \(parsed.name)")
            }
            environment.append(parsed)
        }
        var command: [String]?
        if let c = o["command"] { command = try strings(c, at: path + "/command", allowEmpty: true) }
        var singleton = false
        if let f = o["fleet_singleton"] {
            guard case .bool(let b) = f else { throw typeError(f, "a boolean", at: path + "/fleet_singleton") }
            singleton = b
        }
        return ServiceDefinition(
            name: name,
            tcpPorts: try ports(o["tcp_ports"], at: path + "/tcp_ports"),
            udpPorts: try ports(o["udp_ports"], at: path + "/udp_ports"),
            source: source,
            containerSuffix: try nonEmptyString(
                try required(o, "container_suffix", at: path),
                at: path + "/container_suffix"
            ),
            capAdd: try o["cap_add"].map { v throws(CatalogError) in try strings(v, at: path + "/cap_add") } ?? [],
            environment: environment,
            volumes: try o["volumes"].map { v throws(CatalogError) in try strings(v, at: path + "/volumes") } ?? [],
            labels: try o["labels"].map { v throws(CatalogError) in try stringMap(v, at: path + "/labels") } ?? [],
            command: command,
            fleetSingleton: singleton
        )
    }

    static func buildSource(_ value: JSONValue, at path: String) throws(CatalogError) -> ServiceDefinition.Source {
        let o = try object(value, at: path)
        try rejectUnknown(o, allowed: ["template", "args"], at: path)
        let template = try nonEmptyString(try required(o, "template", at: path), at: path + "/template")
        let parts = template.splitScalars(UInt8(ascii: "/"))
        if parts.contains(where: { $0.isEmpty || $0.sameScalars(as: ".") || $0.sameScalars(as: "..") }) {
            throw CatalogError(
                .invalidValue,
                path: path + "/template",
                "a template is a relative folder below the templates root, without '.', '..' or empty parts"
            )
        }
        let args = try o["args"].map { v throws(CatalogError) in try stringMap(v, at: path + "/args") } ?? []
        return .build(template: template, args: args)
    }

    static func environmentRule(
        _ value: JSONValue,
        at path: String
    ) throws(CatalogError) -> ServiceDefinition.EnvironmentRule {
        let o = try object(value, at: path)
        let name = try nonEmptyString(try required(o, "name", at: path), at: path + "/name")
        if name.utf8.contains(UInt8(ascii: "=")) {
            throw CatalogError(.invalidValue, path: path + "/name", "a variable name cannot contain '='")
        }
        switch (o["value"], o["knob"]) {
        case (let constant?, nil):
            try rejectUnknown(o, allowed: ["name", "value"], at: path)
            guard case .string(let text) = constant else { throw typeError(constant, "a string", at: path + "/value") }
            return .init(name: name, kind: .constant(text.value))
        case (nil, let knob?):
            try rejectUnknown(o, allowed: ["name", "knob", "convert", "default", "mount"], at: path)
            let knobName = try nonEmptyString(knob, at: path + "/knob")
            let convert =
                try o["convert"].map { v throws(CatalogError) in try nonEmptyString(v, at: path + "/convert") }
                ?? "as_is"
            if convert.sameScalars(as: "mount_dir") {
                if o["default"] != nil {
                    throw CatalogError(.unknownMember, path: path + "/default", "mount_dir takes no default")
                }
                let mount = try nonEmptyString(try required(o, "mount", at: path), at: path + "/mount")
                guard mount.hasScalarPrefix("/"), !mount.utf8.contains(UInt8(ascii: ":")) else {
                    throw CatalogError(
                        .invalidValue,
                        path: path + "/mount",
                        "mount must be an absolute path without ':'"
                    )
                }
                return .init(name: name, kind: .mountDirectory(knob: knobName, mountPoint: mount))
            }
            guard let conversion = ServiceDefinition.Conversion(rawValue: convert) else {
                throw CatalogError(
                    .invalidValue,
                    path: path + "/convert",
                    "convert must be one of as_is, python_str, json_if_object, mount_dir; found \(convert)"
                )
            }
            if o["mount"] != nil {
                throw CatalogError(.unknownMember, path: path + "/mount", "mount needs convert mount_dir")
            }
            return .init(name: name, kind: .knob(knobName, conversion: conversion, default: o["default"]))
        case (nil, nil):
            throw CatalogError(.missingMember, path: path, "an environment rule needs either value or knob")
        case (_?, _?):
            throw CatalogError(.invalidValue, path: path + "/knob", "value and knob exclude each other")
        }
    }
}
