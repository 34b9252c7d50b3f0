import DecnetJSON
import TestSupport
import Testing
import Topology

@Suite("Compose YAML writer")
struct ComposeYAMLTests {
    /// Every composed vector document (labels included) reads back through PyYAML to the same data.
    @Test func vectorsRoundTripThroughPyYAML() throws {
        let cases = VectorCase.load("compose.json")
        #expect(cases.count == 12)
        let composer = TopologyComposer(templatesRoot: "__DECNET_TEMPLATES__")
        let documents = try cases.map { try composer.compose(try #require($0["input"])).document }
        let loaded = try PyYAML.safeLoad(documents.map(ComposeYAML.render))
        #expect(loaded.count == documents.count)
        for (i, (doc, back)) in zip(documents, loaded).enumerated() {
            #expect(back == doc, "case \(cases[i].name)")
        }
    }

    static let trickyStrings: [String] = [
        "", " ", "  lead", "trail ", "yes", "No", "ON", "off", "y", "N", "true", "False", "null", "Null", "~", "-",
        "- a",
        "a: b", "a:", "a #b", "#x", "@x", "`x", "!tag", "&a", "*a", "%x", "|", ">", "'", "\"", "\\", "?", "? x", ":x",
        "22:22", "80:80", "5", "3.8", "1e3", "1_000", "0x1F", "0o17", "017", "+1", "-1", ".5", ".inf", "-.inf", ".nan",
        "NaN", "inf", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "190:20:30.15", "<<", "=", "[a]", "{a}", "a,b",
        "multi\nline", "cr\rlf\r\n", "tab\tx", "nul\u{0}x", "del\u{7F}", "c1\u{85}", "nbsp\u{A0}",
        "d\u{E9}cky-\u{6771}",
        "\u{2028}", "\u{FEFF}bom", "emoji \u{1F600}", "e\u{301}", "http://x.y/z?a=1&b=2", "/var/lib/x:/y:rw",
        "__DECNET_TEMPLATES__/ssh", "net.ipv4.ip_forward", "max-size", "service:gw", "a\u{0}",
        String(repeating: "long words ", count: 20),
    ]

    @Test func scalarsAndShapesRoundTrip() throws {
        var members = JSONObject()
        for (i, s) in Self.trickyStrings.enumerated() {
            members["k\(i)"] = JSONValue(s)
            members[JSONString(s.isEmpty ? "empty" : s)] = JSONValue(i)
        }
        let numbers: [JSONValue] = [
            0, -7, 2_147_483_648, .integer(JSONInteger(decimal: "123456789012345678901234567890")!),
            .integer(JSONInteger(decimal: "-340282366920938463463374607431768211456")!),
            0.1, -0.0, 1.0, 1e-7, 1e16, 1e22, 123456789.0, .float(Double.leastNonzeroMagnitude), 1.7976931348623157e308,
            -2.5e-300,
            true, false, nil,
        ]
        let document: JSONValue = [
            "strings": .object(members),
            "numbers": .array(numbers),
            "empty_map": [:], "empty_list": [],
            "nested": [[1, [2, [:], []], ["a": [], "b": [:]]], [["x": 1, "y": [["z": nil]]]], [[]]],
            "list_of_maps": [["name": "a", "v": ["1", 1]], ["name": "b"]],
        ]
        let yaml = ComposeYAML.render(document)
        let back = try #require(try PyYAML.safeLoad([yaml]).first)
        #expect(back == document)
        #expect(yaml.utf8.allSatisfy { $0 < 0x80 }, "the file is ASCII")
    }

    @Test func rootsThatAreNotMappings() throws {
        let docs: [JSONValue] = [[:], [], [1, ["a": 1]], "5", 5, nil]
        #expect(try PyYAML.safeLoad(docs.map(ComposeYAML.render)) == docs)
    }

    @Test func layoutIsBlockStyle() {
        let yaml = ComposeYAML.render([
            "version": "3.8",
            "services": [
                "gw": [
                    "command": ["sleep", "infinity"], "ports": ["22:22", "80:80"],
                    "sysctls": ["net.ipv4.ip_forward": 1],
                ]
            ],
            "networks": [:],
        ])
        #expect(
            yaml == """
                version: "3.8"
                services:
                  gw:
                    command:
                    - sleep
                    - infinity
                    ports:
                    - "22:22"
                    - "80:80"
                    sysctls:
                      net.ipv4.ip_forward: 1
                networks: {}

                """
        )
    }
}
