import DecnetJSON
import Testing

/// `JSONString` equality is byte equality, as Python's: never Unicode equivalence.
struct JSONStringTests {
    @Test func equalityIsByteEquality() {
        let precomposed = JSONString("caf\u{E9}")
        let decomposed = JSONString("cafe\u{301}")
        #expect(precomposed.value == decomposed.value)  // Swift's String says they are equal
        #expect(precomposed != decomposed)
        #expect(precomposed == JSONString("caf" + "\u{E9}"))
        #expect(JSONString("") == JSONString(String()))
        #expect(JSONString("agent-1") != JSONString("agent-10"))
        #expect(JSONString("agent-1") != JSONString("agent-2"))
        // Long (heap) and short (inline) strings alike, and a string made from a slice of a larger one.
        let long = String(repeating: "x", count: 100) + "\u{1F600}"
        let sliced = String(("prefix" + long).dropFirst(6))
        #expect(JSONString(long) == JSONString(sliced))
        #expect(JSONString(long).hashValue == JSONString(sliced).hashValue)
        #expect(JSONString(long) != JSONString(String(repeating: "x", count: 101) + "\u{1F601}"))
    }

    @Test func lookupsFindOnlyTheExactKey() {
        var object: JSONObject = ["caf\u{E9}": 1, "seq": 2]
        #expect(object["caf\u{E9}"] == 1)
        #expect(object["cafe\u{301}"] == nil)
        object["cafe\u{301}"] = 3
        #expect(object.count == 3 && object["caf\u{E9}"] == 1 && object["cafe\u{301}"] == 3)
    }
}
