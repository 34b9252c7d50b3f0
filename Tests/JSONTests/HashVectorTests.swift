import DecnetJSON
import TestSupport
import Testing
import Topology

@Suite("Canonical hash vectors")
struct HashVectorTests {
    static let cases = VectorCase.load("hash.json")
    static let nonstandard = VectorCase.load("hash_nonstandard.json")

    @Test func vectorsLoaded() {
        #expect(Self.cases.count == 58)
        #expect(Self.nonstandard.count == 5)
    }

    /// The vector's `input` is CPython's parse; hashing it must give DECNET's canonical text and digest.
    @Test(arguments: cases)
    func canonicalAndHashMatch(_ c: VectorCase) throws {
        let input = try #require(c["input"])
        let canonical = String(decoding: CanonicalHash.canonicalBytes(input), as: UTF8.self)
        #expect(canonical == c["canonical"]?.stringValue)
        #expect(CanonicalHash.hash(input) == c["hash"]?.stringValue)
    }

    /// Cases with `input_text` give the raw wire text: parse it ourselves, then hash.
    @Test(arguments: cases.filter { $0["input_text"] != nil })
    func wireTextParsesToSameHash(_ c: VectorCase) throws {
        let text = try #require(c["input_text"]?.stringValue)
        let parsed = try JSONParser.parse(text)
        #expect(CanonicalHash.hash(parsed) == c["hash"]?.stringValue)
        #expect(parsed == c["input"])
    }

    /// Only a share of the generated cases is shipped, so some references point at cases we do not have.
    @Test(arguments: cases.filter { c in cases.contains { $0.name == c["same_hash_as"]?.stringValue } })
    func sameHashAsReference(_ c: VectorCase) throws {
        let other = try #require(Self.cases.first { $0.name == c["same_hash_as"]?.stringValue })
        #expect(c["hash"] == other["hash"])
        #expect(CanonicalHash.hash(try #require(c["input"])) == CanonicalHash.hash(try #require(other["input"])))
    }

    /// NaN, ±Infinity and overflow hash as CPython does; lone surrogates are a clear parse error instead.
    @Test(arguments: nonstandard)
    func nonstandardInputs(_ c: VectorCase) throws {
        let text = try #require(c["input_text"]?.stringValue)
        if c.name.contains("surrogate") {
            #expect {
                try JSONParser.parse(text)
            } throws: { error in
                (error as? JSONParseError)?.code == .loneSurrogate
            }
        } else {
            let parsed = try JSONParser.parse(text)
            let canonical = String(decoding: CanonicalHash.canonicalBytes(parsed), as: UTF8.self)
            #expect(canonical == c["canonical"]?.stringValue)
            #expect(CanonicalHash.hash(parsed) == c["hash"]?.stringValue)
        }
    }
}
