import DecnetJSON
import TestSupport
import Testing
import Topology

/// Structural fuzzing: valid vector topologies, broken at random places (members deleted, values replaced by other
/// types, rows duplicated, containers swapped), must never crash the validator, must only produce the 14 DECNET codes
/// or MALFORMED, and every MALFORMED must point at a location under the input.
@Suite("Validator fuzz")
struct ValidatorFuzzTests {
    static let bases: [JSONValue] = VectorCase.load("validate.json").filter { $0.name.hasPrefix("valid_") }
        .compactMap { $0["input"] }
    static let iterations = 3_000

    @Test func basesLoaded() { #expect(Self.bases.count == 10) }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func brokenTopologiesNeverCrash(_ seed: UInt64) throws {
        var mutator = TopologyMutator(seed: seed)
        let allowed = Set(TopologyValidator.ruleCodes + [TopologyValidator.malformedCode])
        var malformedSeen = 0
        for _ in 0..<(Self.iterations / 3) {
            var doc = Self.bases[Int(mutator.rng.next() % UInt64(Self.bases.count))]
            for _ in 0..<(1 + Int(mutator.rng.next() % 4)) { doc = mutator.mutate(doc) }
            let report = Check.validator.validate(doc)
            #expect(report.hasErrors == report.issues.contains { $0.severity == .error })
            var paths: Set<String> = []
            for issue in report.issues {
                #expect(allowed.contains(issue.code), "\(issue.code)")
                #expect(!issue.message.isEmpty)
                guard issue.code == TopologyValidator.malformedCode else { continue }
                malformedSeen += 1
                let path = try #require(issue.target["path"]?.stringValue)
                #expect(issue.target.keys == ["path"])
                #expect(paths.insert(path).inserted, "MALFORMED twice at \(path)")
                #expect(Self.resolves(path, in: doc), "\(path) is not under the input")
            }
            // Deterministic, and encodable.
            #expect(Check.validator.validate(doc).issues == report.issues)
            #expect(!PythonJSONEncoder().encode(report.jsonValue).isEmpty)
            for issue in Check.validator.materialisationIssues(doc) {
                #expect(issue.code == "NAME_UNSAFE" || issue.code == "MALFORMED")
                let path = try #require(issue.target["path"]?.stringValue)
                #expect(Self.resolves(path, in: doc), "\(path) is not under the input")
            }
        }
        #expect(malformedSeen > 100, "the mutations should break structure often")
    }

    /// Whether an RFC 6901 pointer names an existing value, or a missing member of an existing object.
    static func resolves(_ pointer: String, in doc: JSONValue) -> Bool {
        if pointer.isEmpty { return true }
        guard pointer.hasPrefix("/") else { return false }
        let tokens = pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
        var current: JSONValue? = doc
        for (n, token) in tokens.enumerated() {
            let last = n == tokens.count - 1
            switch current {
            case .object(let o)?:
                current = o[token]
                if current == nil && !last { return false }
            case .array(let a)?:
                guard let i = Int(token), String(i) == token, a.indices.contains(i) else { return false }
                current = a[i]
            default:
                return false
            }
        }
        return true
    }
}

/// Random structural damage to a JSON document, reproducible from its seed.
struct TopologyMutator {
    var rng: SeededRandom

    init(seed: UInt64) { rng = SeededRandom(seed: seed) }

    private enum Step {
        case key(String)
        case index(Int)
    }

    mutating func mutate(_ doc: JSONValue) -> JSONValue {
        var paths: [[Step]] = []
        collect(doc, [], into: &paths)
        guard !paths.isEmpty else { return randomValue(doc) }
        let path = paths[pick(paths.count)]
        switch pick(7) {
        case 0: return update(doc, path[...]) { _ in nil }  // delete
        case 1, 2: return update(doc, path[...]) { _ in self.randomValue(doc) }
        case 3:  // duplicate an array element in place
            guard case .index(let i)? = path.last else { return update(doc, path[...]) { _ in .null } }
            return update(doc, path.dropLast()[...]) { parent in
                guard case .array(var a)? = parent else { return parent }
                a.insert(a[i], at: i)
                return .array(a)
            }
        case 4:  // swap container kinds
            return update(doc, path[...]) { value in
                switch value {
                case .array(let a)?: return .object(JSONObject(a.enumerated().map { (JSONString(String($0)), $1) }))
                case .object(let o)?: return .array(o.members.map(\.value))
                case let v?: return .array([v])
                case nil: return nil
                }
            }
        case 5:  // add a member the rules read
            return update(doc, path[...]) { value in
                guard case .object(var o)? = value else { return value }
                let keys = [
                    "is_dmz", "services", "decky_config", "service_config", "ips_by_lan", "name", "id", "subnet",
                    "lan_id", "decky_uuid", "uuid", "lans", "deckies", "edges",
                ]
                o[keys[self.pick(keys.count)]] = self.randomValue(doc)
                return .object(o)
            }
        default:  // copy a value from elsewhere (colliding ids and names)
            let source = paths[pick(paths.count)]
            let copied = value(doc, source[...])
            return update(doc, path[...]) { _ in copied }
        }
    }

    private mutating func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }

    private mutating func randomValue(_ doc: JSONValue) -> JSONValue {
        let pool: [JSONValue] = [
            nil, true, false, 0, 1, -1, 1.0, -0.0, .float(.nan), .float(.infinity), 1.5, 4_294_967_296,
            .integer(JSONInteger(decimal: "100000000000000000000")!), 1e20, "", "x", "ssh", "sniffer", "LAN-00",
            "10.0.0.0/8", "172.20.0.0/16", "172.20.0.2", "not-an-ip", "172.20.0.0/255.255.0.0", [], [:], [1], ["ssh"],
            ["ssh": [:]], ["LAN-00": "172.20.0.9"], [[]], ["x": [1, [2, [3]]]], "d\u{E9}cky", "e\u{301}", "a/b~c",
            .string(JSONString(String(repeating: "z", count: 5_000))),
        ]
        return pool[pick(pool.count)]
    }

    private func collect(_ v: JSONValue, _ prefix: [Step], into paths: inout [[Step]]) {
        switch v {
        case .object(let o):
            for m in o.members {
                let p = prefix + [.key(m.key.value)]
                paths.append(p)
                collect(m.value, p, into: &paths)
            }
        case .array(let a):
            for (i, e) in a.enumerated() {
                let p = prefix + [.index(i)]
                paths.append(p)
                collect(e, p, into: &paths)
            }
        default: break
        }
    }

    private func value(_ v: JSONValue, _ path: ArraySlice<Step>) -> JSONValue? {
        guard let step = path.first else { return v }
        switch (v, step) {
        case (.object(let o), .key(let k)): return o[k].flatMap { value($0, path.dropFirst()) }
        case (.array(let a), .index(let i)) where a.indices.contains(i): return value(a[i], path.dropFirst())
        default: return Optional.none
        }
    }

    /// Replaces (or, when `change` returns nil, removes) the value at `path`.
    private func update(_ v: JSONValue, _ path: ArraySlice<Step>, _ change: (JSONValue?) -> JSONValue?) -> JSONValue {
        guard let step = path.first else { return change(v) ?? .null }
        switch (v, step) {
        case (.object(var o), .key(let k)):
            if path.count == 1 {
                o[k] = change(o[k])
            } else if let child = o[k] {
                o[k] = update(child, path.dropFirst(), change)
            }
            return .object(o)
        case (.array(var a), .index(let i)) where a.indices.contains(i):
            if path.count == 1 {
                if let new = change(a[i]) { a[i] = new } else { a.remove(at: i) }
            } else {
                a[i] = update(a[i], path.dropFirst(), change)
            }
            return .array(a)
        default:
            return v
        }
    }
}
