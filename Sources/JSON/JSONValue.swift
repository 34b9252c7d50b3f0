/// A JSON value with CPython `json.loads` semantics.
///
/// Integers keep their exact value whatever their size, floats stay floats (`1`, `1.0` and `true` are three different
/// values), and strings and object keys compare by Unicode code points, never by canonical equivalence. This is what
/// the canonical hash and the validator need to agree with DECNET's Python master.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case integer(JSONInteger)
    case float(Double)
    case string(JSONString)
    case array([JSONValue])
    case object(JSONObject)
}

extension JSONValue {
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s.value }
        return nil
    }

    public var jsonStringValue: JSONString? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var integerValue: JSONInteger? {
        if case .integer(let i) = self { return i }
        return nil
    }

    /// The value as an `Int` when it is a JSON integer that fits.
    public var intValue: Int? {
        if case .integer(let i) = self { return i.intValue }
        return nil
    }

    /// Member lookup for objects; `nil` for anything else or a missing key.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// Python truthiness: `false`, `null`, `0`, `0.0`, `""`, `[]` and `{}` are falsy, everything else is truthy.
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .integer(let i): return !i.isZero
        case .float(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        }
    }

    /// A short name of the JSON type, for error messages ("object", "array", "string", ...).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer: return "integer"
        case .float: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

/// Structural, type-exact equality: `1` ≠ `1.0` ≠ `true`, `0.0` ≠ `-0.0`, NaN equals NaN with the same bits, objects
/// compare as unordered maps. This is stricter than Python's `==` on purpose: it is the equality of the canonical form.
extension JSONValue: Equatable {
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.float(let a), .float(let b)): return a.bitPattern == b.bitPattern
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        default: return false
        }
    }
}

extension JSONValue: Hashable {
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b):
            hasher.combine(1)
            hasher.combine(b)
        case .integer(let i):
            hasher.combine(2)
            hasher.combine(i)
        case .float(let d):
            hasher.combine(3)
            hasher.combine(d.bitPattern)
        case .string(let s):
            hasher.combine(4)
            hasher.combine(s)
        case .array(let a):
            hasher.combine(5)
            hasher.combine(a)
        case .object(let o):
            hasher.combine(6)
            hasher.combine(o)
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .integer(JSONInteger(value)) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(stringLiteral value: String) { self = .string(JSONString(value)) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { (JSONString($0.0), $0.1) }))
    }
}

extension JSONValue {
    public init(_ string: String) { self = .string(JSONString(string)) }
    public init(_ int: Int) { self = .integer(JSONInteger(int)) }
    public init(_ strings: [String]) { self = .array(strings.map { .string(JSONString($0)) }) }
}
