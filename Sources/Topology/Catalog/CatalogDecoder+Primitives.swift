import DecnetJSON

/// Typed accessors of the catalog reader; each failure names its JSON Pointer.
extension CatalogDecoder {
    static func pointerEscape(_ key: String) -> String {
        key.jsonPointerEscaped
    }

    static func typeError(_ value: JSONValue, _ expected: String, at path: String) -> CatalogError {
        CatalogError(.invalidValue, path: path, "expected \(expected), found \(value.typeName)")
    }

    static func object(_ value: JSONValue, at path: String) throws(CatalogError) -> JSONObject {
        guard case .object(let o) = value else { throw typeError(value, "an object", at: path) }
        return o
    }

    static func required(_ o: JSONObject, _ key: String, at path: String) throws(CatalogError) -> JSONValue {
        guard let v = o[key] else { throw CatalogError(.missingMember, path: path + "/" + key, "\(key) is required") }
        return v
    }

    static func rejectUnknown(_ o: JSONObject, allowed: Set<String>, at path: String) throws(CatalogError) {
        for key in o.keys where !allowed.contains(key.value) {
            throw CatalogError(
                .unknownMember,
                path: path + "/" + pointerEscape(key.value),
                "unknown member \(key.value); allowed: \(allowed.sorted().joined(separator: ", "))"
            )
        }
    }

    static func nonEmptyString(_ value: JSONValue, at path: String) throws(CatalogError) -> String {
        guard case .string(let s) = value else { throw typeError(value, "a string", at: path) }
        if s.isEmpty { throw CatalogError(.invalidValue, path: path, "must not be empty") }
        return s.value
    }

    /// An optional array member: missing means empty.
    static func array(_ value: JSONValue?, at path: String) throws(CatalogError) -> [JSONValue] {
        guard let value else { return [] }
        guard case .array(let a) = value else { throw typeError(value, "an array", at: path) }
        return a
    }

    static func strings(_ value: JSONValue, at path: String, allowEmpty: Bool = false) throws(CatalogError) -> [String]
    {
        var out: [String] = []
        for (i, e) in try array(value, at: path).enumerated() {
            guard case .string(let s) = e else { throw typeError(e, "a string", at: "\(path)/\(i)") }
            if s.isEmpty && !allowEmpty { throw CatalogError(.invalidValue, path: "\(path)/\(i)", "must not be empty") }
            out.append(s.value)
        }
        return out
    }

    static func stringMap(_ value: JSONValue, at path: String) throws(CatalogError) -> [KeyValue] {
        var out: [KeyValue] = []
        for (k, v) in try object(value, at: path).members {
            let p = path + "/" + pointerEscape(k.value)
            if k.isEmpty { throw CatalogError(.invalidValue, path: p, "a key must not be empty") }
            guard case .string(let s) = v else { throw typeError(v, "a string", at: p) }
            out.append(KeyValue(k.value, s.value))
        }
        return out
    }

    /// Port numbers 1...65535, duplicates allowed (the seed publishes what the plugin lists).
    static func ports(_ value: JSONValue?, at path: String) throws(CatalogError) -> [Int] {
        var out: [Int] = []
        for (i, e) in try array(value, at: path).enumerated() {
            guard case .integer(let n) = e, let port = n.intValue, (1...65535).contains(port) else {
                throw CatalogError(
                    .invalidValue,
                    path: "\(path)/\(i)",
                    "expected a port number 1-65535, found \(e.jsonText)"
                )
            }
            out.append(port)
        }
        return out
    }
}
