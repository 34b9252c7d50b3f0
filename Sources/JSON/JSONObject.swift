/// A JSON object with Python `dict` semantics: members keep insertion order, keys are compared by code points, and
/// setting an existing key replaces its value in place (so a duplicate key in the input keeps the first position and
/// the last value, as `json.loads` does).
public struct JSONObject: Sendable {
    public typealias Member = (key: JSONString, value: JSONValue)

    public private(set) var members: [Member]
    /// Key → position, built only for larger objects: a linear scan is faster for the usual handful of members, and
    /// the index keeps a hostile object with a million keys from turning de-duplication quadratic.
    private var index: [JSONString: Int]?

    static let indexThreshold = 12

    public init() {
        members = []
        index = nil
    }

    /// Builds an object from pairs in order; a repeated key overwrites the earlier value in its first position.
    public init<S: Sequence>(_ pairs: S) where S.Element == (JSONString, JSONValue) {
        self.init()
        for (k, v) in pairs { self[k] = v }
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var keys: [JSONString] { members.map(\.key) }

    public func position(of key: JSONString) -> Int? {
        if let index { return index[key] }
        return members.firstIndex { $0.key == key }
    }

    public subscript(key: JSONString) -> JSONValue? {
        get { position(of: key).map { members[$0].value } }
        set {
            if let i = position(of: key) {
                if let newValue {
                    members[i].value = newValue
                } else {
                    members.remove(at: i)
                    if index != nil { rebuildIndex() }
                }
            } else if let newValue {
                members.append((key, newValue))
                if index != nil {
                    index![key] = members.count - 1
                } else if members.count > Self.indexThreshold {
                    rebuildIndex()
                }
            }
        }
    }

    public subscript(key: String) -> JSONValue? {
        get { self[JSONString(key)] }
        set { self[JSONString(key)] = newValue }
    }

    private mutating func rebuildIndex() {
        var idx = [JSONString: Int](minimumCapacity: members.count)
        for (i, m) in members.enumerated() { idx[m.key] = i }
        index = idx
    }
}

extension JSONObject: Equatable {
    /// Unordered comparison, like Python `dict ==`, but with type-exact values.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for m in lhs.members {
            guard let other = rhs[m.key], other == m.value else { return false }
        }
        return true
    }
}

extension JSONObject: Hashable {
    public func hash(into hasher: inout Hasher) {
        // Order-independent: combine per-member hashes commutatively.
        var acc = 0
        for m in members {
            var h = Hasher()
            h.combine(m.key)
            h.combine(m.value)
            acc = acc &+ h.finalize()
        }
        hasher.combine(count)
        hasher.combine(acc)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.map { (JSONString($0.0), $0.1) })
    }
}
