import DecnetJSON

/// Typed access to the parts of a hydrated topology the composer reads; a wrong shape is a `ComposeError` with the
/// JSON Pointer of the member (where DECNET's Python would raise KeyError/TypeError).
enum HydratedInput {
    static func pointer(_ path: String, _ key: String) -> String {
        path + "/" + key.jsonPointerEscaped
    }

    static func object(_ value: JSONValue?, at path: String) throws(ComposeError) -> JSONObject {
        guard let value else { throw ComposeError(.malformed, "missing object", path: path) }
        guard case .object(let o) = value else {
            throw ComposeError(.malformed, "expected an object, found \(value.typeName)", path: path)
        }
        return o
    }

    /// What `for x in value` yields in DECNET's Python: an array's elements, an object's keys, a string's
    /// characters (each as a one-character string). Keys and characters are strings, so a row read from them fails
    /// later, as Python's indexing of a `str` does; an empty string or object is simply nothing to iterate.
    static func iterated(_ value: JSONValue?, at path: String) throws(ComposeError) -> [JSONValue] {
        guard let value else { throw ComposeError(.malformed, "missing array", path: path) }
        guard let items = value.pythonIteration else {
            throw ComposeError(.malformed, "expected an array, found \(value.typeName)", path: path)
        }
        return Array(items)
    }

    static func string(_ value: JSONValue?, at path: String) throws(ComposeError) -> JSONString {
        guard let value else { throw ComposeError(.malformed, "missing string", path: path) }
        guard case .string(let s) = value else {
            throw ComposeError(.malformed, "expected a string, found \(value.typeName)", path: path)
        }
        return s
    }

    static func strings(_ value: JSONValue?, at path: String) throws(ComposeError) -> [JSONString] {
        var out: [JSONString] = []
        for (i, e) in try iterated(value, at: path).enumerated() { out.append(try string(e, at: "\(path)/\(i)")) }
        return out
    }

    /// An IPv4 address for the Engine API: strings verbatim; integers (which CPython's `ipaddress` accepts, and so
    /// the validator) as dotted quads; booleans refused (docs/deviations.md#boolean-address).
    static func ipv4(_ value: JSONValue, at path: String) throws(ComposeError) -> String {
        switch value {
        case .string(let s): return s.value
        case .integer(let i):
            if let v = i.int64Value, v >= 0, v <= 0xFFFF_FFFF {
                return [24, 16, 8, 0].map { String((v >> $0) & 0xFF) }.joined(separator: ".")
            }
        default: break
        }
        throw ComposeError(
            .malformed,
            "expected an IPv4 address or network string, found \(value.jsonText)",
            path: path
        )
    }

    /// A LAN subnet for the Engine API: strings verbatim; an integer (a /32 network to CPython's `ipaddress`, so to
    /// the validator) as `a.b.c.d/32`.
    static func subnet(_ value: JSONValue?, at path: String) throws(ComposeError) -> String {
        guard let value else { throw ComposeError(.malformed, "missing subnet", path: path) }
        if case .integer = value { return try ipv4(value, at: path) + "/32" }
        return try ipv4(value, at: path)
    }

    /// An environment value as Docker receives it: compose's string form of a scalar, nil for null, and JSON text
    /// for a list or object (compose itself would refuse those).
    static func environmentText(_ value: JSONValue) -> String? {
        switch value {
        case .null: return nil
        case .string(let s): return s.value
        case .bool(let b): return b ? "true" : "false"
        case .integer(let i): return i.description
        case .float(let d): return PythonFloat.repr(d)
        case .array, .object: return PythonText.jsonDumps(value)
        }
    }
}
