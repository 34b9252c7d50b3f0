import DecnetJSON
import Hashing
import Topology

extension AgentFuzzHarness {
    /// The canonical form is ASCII, identical from the fast writer and the general encoder, re-parses to an equal
    /// value (equal canonical bytes when NaN is involved, since NaN never equals itself in Python), and hashes to the
    /// SHA-256 of its volatile-stripped form. The raw-UTF-8 compact encoding (what the agent sends) round-trips too.
    static func checkEncodings(_ value: JSONValue) {
        let canonical = CanonicalWriter.canonicalBytes(value, dropKey: { _ in false })
        FuzzInvariant.check(canonical.allSatisfy { $0 < 0x80 }, "canonical bytes are not ASCII")
        FuzzInvariant.check(
            canonical == PythonJSONEncoder.canonical.encode(value),
            "CanonicalWriter and PythonJSONEncoder disagree"
        )

        guard let reparsed = try? JSONParser.parse(canonical) else {
            let text = String(decoding: canonical.prefix(200), as: UTF8.self)
            FuzzInvariant.fail("canonical bytes do not re-parse: \(text)")
        }
        FuzzInvariant.check(
            CanonicalWriter.canonicalBytes(reparsed, dropKey: { _ in false }) == canonical,
            "canonical form is not a fixed point"
        )
        if !containsNaN(value) {
            FuzzInvariant.check(reparsed == value, "canonical bytes re-parse to a different value")
        }

        let compact = PythonJSONEncoder().encode(value)
        guard let fromCompact = try? JSONParser.parse(compact) else {
            FuzzInvariant.fail("compact JSON does not re-parse")
        }
        FuzzInvariant.check(
            CanonicalWriter.canonicalBytes(fromCompact, dropKey: { _ in false }) == canonical,
            "compact JSON re-parses to a different value"
        )

        let hash = CanonicalHash.hash(value)
        FuzzInvariant.check(hash.utf8.count == 64, "hash is not 64 hex digits")
        FuzzInvariant.check(SHA256.hex(CanonicalHash.canonicalBytes(value)) == hash, "hash is not its bytes' hash")
        FuzzInvariant.check(CanonicalHash.hash(reparsed) == hash, "re-parsed value hashes differently")
    }

    static func containsNaN(_ value: JSONValue) -> Bool {
        switch value {
        case .float(let d): return d.isNaN
        case .array(let a): return a.contains(where: containsNaN)
        case .object(let o): return o.members.contains { containsNaN($0.value) }
        default: return false
        }
    }
}
