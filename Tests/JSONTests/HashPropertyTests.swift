import DecnetJSON
import Foundation
import TestSupport
import Testing
import Topology

@Suite("Canonical hash properties")
struct HashPropertyTests {
    /// Realistic topologies from the vectors to mutate.
    static let topologies: [JSONValue] = VectorCase.load("hash.json")
        .filter { $0.name.hasPrefix("real_") || $0.name.hasPrefix("head_") || $0.name.hasPrefix("decnet_") }
        .compactMap { $0["input"] }

    @Test func anyKeyOrderKeepsTheHash() {
        var gen = RandomJSON(seed: 1)
        for t in Self.topologies + (0..<200).map({ _ in gen.value() }) {
            let h = CanonicalHash.hash(t)
            for _ in 0..<3 { #expect(CanonicalHash.hash(gen.shuffled(t)) == h) }
        }
    }

    @Test func volatileChangesKeepTheHash() {
        var gen = RandomJSON(seed: 2)
        for t in Self.topologies {
            let h = CanonicalHash.hash(t)
            for _ in 0..<20 {
                let mutated = mutateVolatile(t, &gen, depth: 0)
                #expect(CanonicalHash.hash(mutated) == h)
            }
        }
    }

    @Test func anyOtherChangeFlipsTheHash() {
        var gen = RandomJSON(seed: 3)
        for t in Self.topologies {
            let h = CanonicalHash.hash(t)
            for _ in 0..<20 {
                guard let mutated = mutateNonVolatile(t, &gen) else { continue }
                #expect(CanonicalHash.hash(mutated) != h, "changed \(mutated.jsonText.prefix(200))")
            }
        }
    }

    /// The fast canonical writer and the general Python-compatible encoder must produce identical bytes.
    @Test func fastWriterAgreesWithGeneralEncoder() {
        var gen = RandomJSON(seed: 5)
        let inputs = Self.topologies + (0..<500).map { _ in gen.value() }
        for v in inputs {
            let fast = CanonicalWriter.canonicalBytes(v, dropKey: CanonicalHash.isVolatile)
            let general = PythonJSONEncoder.canonical.encode(v, dropKey: CanonicalHash.isVolatile)
            #expect(fast == general, "\(v.jsonText.prefix(200))")
        }
        // Objects larger than the insertion-sort limit take the other path.
        var big = JSONObject()
        for i in (0..<100).reversed() { big["k\(i)"] = .integer(JSONInteger(i)) }
        big["status"] = "dropped"
        let v = JSONValue.object(big)
        #expect(
            CanonicalWriter.canonicalBytes(v, dropKey: CanonicalHash.isVolatile)
                == PythonJSONEncoder.canonical.encode(v, dropKey: CanonicalHash.isVolatile)
        )
    }

    @Test func hashingDoesNotMutateItsInput() {
        for t in Self.topologies {
            let before = t.jsonText
            _ = CanonicalHash.hash(t)
            #expect(t.jsonText == before)
            #expect(before.contains("\"status\"") || !before.contains("status"))
        }
    }

    /// An independent oracle: CPython itself hashes 300 random documents written as text by our encoder.
    @Test func agreesWithCPythonOnRandomDocuments() throws {
        guard let python = Self.findPython() else {
            Issue.record("python3 is required for this test (the test script installs it)")
            return
        }
        var gen = RandomJSON(seed: 4)
        let docs = (0..<300).map { _ in gen.value() }
        let lines = docs.map { PythonJSONEncoder().string($0) }.joined(separator: "\n")
        let script = """
            import sys, json, hashlib
            V = {"created_at","status_changed_at","updated_at","last_seen","status","version","last_error","x","y","w","h"}
            def strip(v):
                if isinstance(v, dict): return {k: strip(x) for k, x in v.items() if k not in V}
                if isinstance(v, list): return [strip(x) for x in v]
                return v
            for line in sys.stdin.read().split("\\n"):
                print(hashlib.sha256(json.dumps(strip(json.loads(line)), sort_keys=True, separators=(",", ":")).encode()).hexdigest())
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(lines.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let expected = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(expected.count == docs.count)
        for (doc, want) in zip(docs, expected) {
            #expect(CanonicalHash.hash(doc) == want, "\(doc.jsonText.prefix(300))")
        }
    }

    static func findPython() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/python3") {
            return "\(dir)/python3"
        }
        return nil
    }

    // MARK: mutations

    func mutateVolatile(_ v: JSONValue, _ gen: inout RandomJSON, depth: Int) -> JSONValue {
        switch v {
        case .array(let a): return .array(a.map { mutateVolatile($0, &gen, depth: depth + 1) })
        case .object(var o):
            for m in o.members { o[m.key] = mutateVolatile(m.value, &gen, depth: depth + 1) }
            if Int.random(in: 0..<3, using: &gen.rng) == 0 {
                let key = CanonicalHash.volatileKeys.randomElement(using: &gen.rng)!
                o[key] = gen.value(depth: 3)
            }
            return .object(o)
        default: return v
        }
    }

    /// Changes one non-volatile scalar somewhere (or appends to a list); nil if nothing could be changed.
    func mutateNonVolatile(_ v: JSONValue, _ gen: inout RandomJSON) -> JSONValue? {
        switch v {
        case .object(var o):
            let candidates = o.members.filter { !CanonicalHash.isVolatile($0.key) }
            guard let pick = candidates.randomElement(using: &gen.rng) else { return nil }
            if let inner = mutateNonVolatile(pick.value, &gen) {
                o[pick.key] = inner
            } else {
                o[pick.key] = replacement(for: pick.value)
            }
            return .object(o)
        case .array(var a):
            guard !a.isEmpty else { return .array([.null]) }
            let i = Int.random(in: 0..<a.count, using: &gen.rng)
            a[i] = mutateNonVolatile(a[i], &gen) ?? replacement(for: a[i])
            return .array(a)
        default:
            return nil
        }
    }

    func replacement(for v: JSONValue) -> JSONValue {
        switch v {
        case .null: return .bool(false)
        case .bool(let b): return b ? .integer(JSONInteger(1)) : .integer(JSONInteger(0))
        case .integer(let i): return .float(Double(i.intValue ?? 0))
        case .float(let d): return .float(d.sign == .minus && d == 0 ? 0.0 : (d == 0 ? -0.0 : d * 2 + 1))
        case .string(let s): return .string(JSONString(s.value + "\u{301}"))
        case .array(let a): return .array(a + [.null])
        case .object: return .array([])
        }
    }
}
