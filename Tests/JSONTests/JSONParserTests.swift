import DecnetJSON
import Testing

@Suite("JSON parser with CPython semantics")
struct JSONParserTests {
    func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    func code(of text: String) -> JSONParseError.Code? {
        do {
            _ = try JSONParser.parse(text)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func integersStayExact() throws {
        #expect(try parse("18446744073709551617").jsonText == "18446744073709551617")
        #expect(try parse("-1180591620717411303424").jsonText == "-1180591620717411303424")
        #expect(try parse("-0") == .integer(JSONInteger(0)))
        #expect(try parse("9223372036854775807").intValue == Int.max)
        #expect(try parse("9223372036854775808").intValue == nil)
        #expect(try parse("-9223372036854775808").intValue == Int.min)
    }

    @Test func integerDigitLimitFollowsCPython() throws {
        let ok = String(repeating: "7", count: 4300)
        #expect(try parse(ok).jsonText == ok)
        #expect(code(of: String(repeating: "7", count: 4301)) == .integerTooLong)
        #expect(code(of: "-" + String(repeating: "7", count: 4301)) == .integerTooLong)
        // Floats have no such limit.
        #expect(try parse("0." + String(repeating: "1", count: 5000)) == .float(0.1111111111111111))
    }

    @Test func floatsStayFloats() throws {
        #expect(try parse("1.0") == .float(1.0))
        #expect(try parse("1") != (try parse("1.0")))
        #expect(try parse("true") != (try parse("1")))
        #expect(try parse("1E2") == .float(100))
        #expect(try parse("1.0e+2") == .float(100))
        #expect(try parse("1e400") == .float(.infinity))
        #expect(try parse("-1e400") == .float(-.infinity))
        #expect(try parse("1e-400").jsonText == "0.0")
        #expect(try parse("-1e-400").jsonText == "-0.0")
        #expect(try parse("1.00000000000000000001").jsonText == "1.0")
        #expect(try parse("12345678901234567890.0").jsonText == "1.2345678901234567e+19")
    }

    @Test func nonStandardTokens() throws {
        #expect(try parse("[NaN,Infinity,-Infinity]").jsonText == "[NaN,Infinity,-Infinity]")
        #expect(code(of: "nan") == .unexpectedCharacter)
        #expect(code(of: "-Inf") == .unexpectedCharacter)
    }

    @Test func duplicateKeysKeepFirstPositionLastValue() throws {
        let v = try parse(#"{"a":1,"b":2,"a":3}"#)
        #expect(v.objectValue?.keys == ["a", "b"])
        #expect(v["a"] == 3)
    }

    @Test func duplicateKeysInLargeObjects() throws {
        // Above the index threshold the object switches to a hashed index; semantics must not change.
        var members = (0..<100).map { "\"k\($0)\":\($0)" }
        members.append("\"k5\":\"last\"")
        let v = try parse("{" + members.joined(separator: ",") + "}")
        #expect(v.objectValue?.count == 100)
        #expect(v["k5"] == "last")
        #expect(v.objectValue?.keys[5] == "k5")
    }

    @Test func keysAreNotUnicodeNormalised() throws {
        let v = try parse("{\"\u{E9}\":1,\"e\u{301}\":2}")
        #expect(v.objectValue?.count == 2)
        #expect(JSONString("\u{E9}") != JSONString("e\u{301}"))
        // Swift's own String equality would merge them.
        #expect("\u{E9}" == "e\u{301}")
    }

    @Test func escapesDecode() throws {
        #expect(try parse(#""\u00e9\/\b\f\n\r\t\"\\""#) == .string(JSONString("\u{E9}/\u{8}\u{C}\n\r\t\"\\")))
        #expect(try parse(#""\ud83d\ude00""#) == "😀")
        #expect(try parse(#""\uD83D\uDE00""#) == "😀")
    }

    @Test func loneSurrogatesAreAClearError() {
        #expect(code(of: #""\ud800""#) == .loneSurrogate)
        #expect(code(of: #""\udc00x""#) == .loneSurrogate)
        #expect(code(of: #""\ud800\u0041""#) == .loneSurrogate)
        #expect(code(of: #"{"\udfff":1}"#) == .loneSurrogate)
        // A surrogate encoded directly in UTF-8 bytes (CPython's surrogatepass) is refused too.
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func nestingLimit() throws {
        let ok = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(throws: Never.self) { try JSONParser.parse(ok) }
        let deep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(code(of: deep) == .nestingTooDeep)
        let deepObjects = String(repeating: "{\"a\":", count: 600) + "1" + String(repeating: "}", count: 600)
        #expect(code(of: deepObjects) == .nestingTooDeep)
        // Far deeper than the limit must still be an error, not a stack overflow.
        #expect(code(of: String(repeating: "[", count: 1_000_000)) == .nestingTooDeep)
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "01", "1.", ".5", "1e", "+1", "tru", "nul", "\"abc",
        "\"a\u{1}b\"", "\"\\x\"", "\"\\u12\"", "[1 2]", "{\"a\" 1}", "1 2", "[] x", "{\"a\":1}}",
    ])
    func malformedInputsAreErrors(_ text: String) {
        #expect(code(of: text) != nil, "accepted: \(text.debugDescription)")
    }

    @Test func whitespaceAndBOM() throws {
        #expect(try JSONParser.parse(" \t\r\n{ \"a\" : [ 1 , 2 ] }\n ") == ["a": [1, 2]])
        #expect(try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("{}".utf8)) == .object(JSONObject()))
        #expect(code(of: "\u{A0}1") != nil)  // only JSON's four whitespace characters
    }

    /// CPython's `json.loads` on bytes decodes UTF-16 and UTF-32 too; the master only sends UTF-8, so we refuse
    /// them (docs/deviations.md#utf8-only).
    @Test(
        arguments: [
            [0xFF, 0xFE, 0x7B, 0x00, 0x7D, 0x00], [0xFE, 0xFF, 0x00, 0x7B, 0x00, 0x7D], [0x7B, 0x00, 0x7D, 0x00],
            [0x00, 0x7B, 0x00, 0x7D], [0xFF, 0xFE, 0x00, 0x00, 0x7B, 0x00, 0x00, 0x00, 0x7D, 0x00, 0x00, 0x00],
            [0x00, 0x00, 0x00, 0x7B, 0x00, 0x00, 0x00, 0x7D],
        ] as [[UInt8]]
    )
    func utf16AndUTF32AreRefused(_ bytes: [UInt8]) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes) }
    }

    @Test func scalarsAtTopLevel() throws {
        #expect(try parse("null") == nil)
        #expect(try parse("\"s\"") == "s")
        #expect(try parse("-12") == -12)
    }
}
