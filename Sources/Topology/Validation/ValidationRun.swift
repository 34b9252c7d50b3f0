import DecnetJSON

/// One pass of the 14 DECNET rules over one document, with the crash points of DECNET's Python turned into
/// MALFORMED issues (docs/deviations.md#malformed-issues).
///
/// Each rule reads the document the way the Python rule does. Where Python would raise (missing key, non-object row,
/// unhashable key, non-iterable value), the run reports MALFORMED at that JSON pointer, skips just that element in
/// that rule and goes on, so one report lists every problem. Where Python copes (a string iterated as characters, a
/// falsy `decky_config`), so does the run.
struct ValidationRun {
    /// A row of `lans`, `deckies` or `edges` that is a JSON object.
    struct Row {
        let index: Int
        let path: JSONPointer
        let object: JSONObject

        subscript(key: String) -> JSONValue? { object[key] }
    }

    let root: JSONObject
    let known: Set<PyKey>
    var out: IssueCollector
    /// Rows of each top-level table, or nil when the table itself is unusable; filled on first use.
    private var tables: [String: [Row]?] = [:]

    init(root: JSONObject, known: Set<PyKey>, limit: Int) {
        self.root = root
        self.known = known
        self.out = IssueCollector(limit: limit)
    }

    mutating func run() {
        checkExactlyOneDMZ()
        checkLANsReachDMZ()
        checkDeckiesHaveEdges()
        checkNamesUnique()
        checkIPs()
        checkSubnets()
        checkServicesKnown()
        checkServiceConfigDeclared()
    }

    // MARK: - Structural access (the places where Python raises)

    /// The object rows of top-level table `key` (`lans`, `deckies`, `edges`), or nil when the table is missing or
    /// cannot be iterated into rows. Non-object rows are reported once and left out.
    mutating func rows(_ key: String) -> [Row]? {
        if let cached = tables[key] { return cached }
        let rows = makeRows(key)
        tables[key] = .some(rows)
        return rows
    }

    private mutating func makeRows(_ key: String) -> [Row]? {
        let path = JSONPointer.root.appending(key)
        guard let value = root[key] else {
            out.malformed(path, "required top-level member \"\(key)\" is missing")
            return nil
        }
        switch value {
        case .array(let elements):
            var rows: [Row] = []
            rows.reserveCapacity(elements.count)
            for (i, element) in elements.enumerated() {
                if case .object(let o) = element {
                    rows.append(Row(index: i, path: path.appending(i), object: o))
                } else {
                    out.malformed(
                        path.appending(i),
                        "each entry of \"\(key)\" must be an object, found \(element.typeName)"
                    )
                }
            }
            return rows
        case .string(let s) where s.isEmpty:
            return []  // Python iterates "" to nothing
        case .object(let o) where o.isEmpty:
            return []  // and {} to nothing
        case .string, .object:
            out.malformed(path, "\"\(key)\" must be an array of objects; iterating a \(value.typeName) yields strings")
            return nil
        case .null, .bool, .integer, .float:
            out.malformed(path, "\"\(key)\" must be an array of objects, found \(value.typeName)")
            return nil
        }
    }

    /// `row[key]`, reporting a missing member (Python's `KeyError`).
    mutating func member(_ row: Row, _ key: String) -> JSONValue? {
        if let v = row[key] { return v }
        out.malformed(row.path.appending(key), "required member \"\(key)\" is missing")
        return nil
    }

    /// `row[key]` used as a dict key or set member: reports a missing member and an unhashable (array or object)
    /// value (Python's `TypeError: unhashable type`).
    mutating func keyMember(_ row: Row, _ key: String) -> (key: PyKey, value: JSONValue)? {
        guard let v = member(row, key) else { return nil }
        guard let k = PyKey(v) else {
            out.malformed(
                row.path.appending(key),
                "\"\(key)\" is used as a lookup key and must not be an \(v.typeName)"
            )
            return nil
        }
        return (k, v)
    }

    /// `(d.get("decky_config") or {})`: a falsy value counts as an empty config; a truthy non-object raises.
    mutating func deckyConfig(_ decky: Row) -> JSONObject? {
        guard let value = decky["decky_config"], value.isTruthy else { return JSONObject() }
        if case .object(let o) = value { return o }
        out.malformed(decky.path.appending("decky_config"), "decky_config must be an object, found \(value.typeName)")
        return nil
    }

    /// `d.get("services", [])` iterated: a missing list is empty; a value that cannot be iterated is reported.
    mutating func services(_ decky: Row) -> PythonIteration? {
        guard let value = decky["services"] else { return .elements([]) }
        if let items = value.pythonIteration { return items }
        out.malformed(decky.path.appending("services"), "services must be a list of names, found \(value.typeName)")
        return nil
    }

    /// Reports an element of an iterated list that Python would have to hash but cannot.
    mutating func unhashableElement(_ path: JSONPointer, _ index: Int, _ value: JSONValue, role: String) {
        out.malformed(path.appending(index), "\(role) must be a string, found \(value.typeName)")
    }
}
