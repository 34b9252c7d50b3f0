import DecnetJSON

/// The `filters` query parameter of Docker's list and events endpoints: each key (`label`, `name`, `status`,
/// `type`, ...) maps to the values any of which may match; different keys must all match.
///
/// Docker's `name` filter matches substrings (`lan-1` also finds `lan-10`): callers that want one object must compare
/// the exact names of what comes back.
public struct DockerFilters: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public private(set) var values: [String: [String]]

    public init(_ values: [String: [String]] = [:]) {
        self.values = values
    }

    public init(dictionaryLiteral elements: (String, [String])...) {
        self.init()
        for (key, list) in elements { values[key, default: []].append(contentsOf: list) }
    }

    public var isEmpty: Bool { values.isEmpty }

    /// Adds one value under `key`, keeping the ones already there.
    public mutating func add(_ key: String, _ value: String) {
        values[key, default: []].append(value)
    }

    /// A copy with one more value under `key`.
    public func adding(_ key: String, _ value: String) -> DockerFilters {
        var copy = self
        copy.add(key, value)
        return copy
    }

    /// Objects carrying label `key` with any value, or with exactly `value`.
    public static func label(_ key: String, _ value: String? = nil) -> DockerFilters {
        DockerFilters(["label": [value.map { "\(key)=\($0)" } ?? key]])
    }

    /// Objects whose name contains `name` (a substring match).
    public static func name(_ name: String) -> DockerFilters {
        DockerFilters(["name": [name]])
    }

    /// The JSON text Docker expects, `{"label":["a=b"],"type":["container"]}`, with keys and values in a stable order.
    public var jsonText: String {
        let members = values.keys.sorted().map { key in
            (JSONString(key), JSONValue.array(values[key]!.map { .string(JSONString($0)) }))
        }
        return PythonJSONEncoder().string(.object(JSONObject(members)))
    }

    /// The query item for a request, or none when there are no filters.
    var queryItems: [(name: String, value: String)] {
        isEmpty ? [] : [("filters", jsonText)]
    }
}
