import DecnetJSON
import TestSupport
import Testing
import Topology

/// `materialisationIssues`: names that would break Docker object names or file paths are refused before Docker.
@Suite("Materialisation name safety")
struct MaterialisationTests {
    static let validTopologies: [VectorCase] =
        VectorCase.load("validate.json").filter { $0.name.hasPrefix("valid_") }
        + VectorCase.load("hash.json").filter { $0.name.hasPrefix("real_") }
        + VectorCase.load("compose.json").filter { $0["valid"]?.boolValue != false && !$0.name.contains("unicode") }

    @Test func vectorsLoaded() {
        #expect(Self.validTopologies.count >= 20)
    }

    @Test(arguments: validTopologies)
    func realTopologiesAreSafe(_ c: VectorCase) throws {
        #expect(Check.validator.materialisationIssues(try #require(c["input"])) == [])
    }

    /// DECNET composes non-ASCII names (hash.json and compose.json carry such topologies); Docker would not take them.
    @Test(arguments: ["hash.json", "compose.json"])
    func unicodeNamesAreUnsafe(_ file: String) throws {
        let cases = VectorCase.load(file).filter { $0.name.contains("unicode") }
        try #require(!cases.isEmpty)
        for c in cases {
            let issues = Check.validator.materialisationIssues(try #require(c["input"]))
            #expect(!issues.isEmpty, "\(c.name)")
            #expect(issues.allSatisfy { $0.code == "NAME_UNSAFE" && $0.severity == .error })
            for issue in issues {
                let name = try #require(issue.target["name"]?.stringValue)
                let ascii = name.unicodeScalars.allSatisfy { $0.isASCII }
                #expect(!ascii, "\(name) is ASCII")
                #expect(issue.target["path"]?.stringValue?.hasSuffix("/name") == true)
            }
        }
    }

    static func issues(
        lanName: JSONValue = "dmz",
        deckyName: JSONValue = "gw",
        configName: JSONValue? = nil,
        id: JSONValue = "5d81934e-4a18-580f-bd50-6df4ca24a41a"
    ) -> [ValidationIssue] {
        var config: JSONObject = ["ips_by_lan": ["dmz": "10.0.0.2"]]
        if let configName { config["name"] = configName }
        let doc: JSONValue = [
            "topology": ["id": id],
            "lans": [["id": "L0", "name": lanName, "subnet": "10.0.0.0/24", "is_dmz": true]],
            "deckies": [["uuid": "D0", "name": deckyName, "services": ["ssh"], "decky_config": .object(config)]],
            "edges": [["decky_uuid": "D0", "lan_id": "L0"]],
        ]
        return Check.validator.materialisationIssues(doc)
    }

    static let unsafeNames: [JSONValue] = [
        "", ".", "..", "a..b", "-flag", "_x", ".hidden", "a/b", "../etc", "a\u{0}b", "a b", "tab\t", "décky",
        "東京", "😀", "e\u{301}", "LAN\u{130}", 5, nil, true, ["gw"], ["name": "gw"],
        .string(JSONString(String(repeating: "a", count: 64))),
    ]

    @Test(arguments: unsafeNames)
    func unsafeDeckyNames(_ name: JSONValue) {
        let issues = Self.issues(deckyName: name)
        #expect(issues.map(\.code) == ["NAME_UNSAFE"])
        #expect(issues.first?.target == ["path": "/deckies/0/name", "name": name])
        // The name in decky_config wins over the row name, as in the composer.
        let viaConfig = Self.issues(deckyName: "gw", configName: name == nil ? "a b" : name)
        #expect(viaConfig.first?.target["path"] == "/deckies/0/decky_config/name")
    }

    @Test(arguments: unsafeNames.filter { $0 != .string(JSONString(String(repeating: "a", count: 64))) })
    func unsafeLANNames(_ name: JSONValue) {
        let issues = Self.issues(lanName: name)
        #expect(issues.map(\.code) == ["NAME_UNSAFE"])
        #expect(issues.first?.target == ["path": "/lans/0/name", "name": name])
    }

    @Test func safeNamesAndLimits() {
        for name in ["gw", "decky-001", "A.b_c-9", "0day", String(repeating: "a", count: 63)] {
            #expect(Self.issues(deckyName: .string(JSONString(name))) == [], "\(name)")
        }
        // LAN names reach Docker lower-cased the Python way: KELVIN SIGN becomes an ASCII k.
        #expect(Self.issues(lanName: "LAN-\u{212A}") == [])
        // decnet_t_ + 8 + _ is 18 characters: a 110-character LAN name is the longest that fits in 128.
        #expect(Self.issues(lanName: .string(JSONString(String(repeating: "L", count: 110)))) == [])
        #expect(
            Self.issues(lanName: .string(JSONString(String(repeating: "L", count: 111)))).map(\.code) == ["NAME_UNSAFE"]
        )
        // A short id makes a short prefix.
        #expect(Self.issues(lanName: .string(JSONString(String(repeating: "L", count: 116))), id: "t1") == [])
    }

    @Test func topologyID() {
        #expect(Self.issues(id: "t1") == [])
        #expect(Self.issues(id: "ABC.def_-12345") == [])
        for bad: JSONValue in ["../../etc/passwd", "a b", "ünïcode", "x..y"] {
            #expect(
                Self.issues(id: bad).map { Check.summary([$0]) } == [
                    [#"NAME_UNSAFE {"path":"/topology/id","name":\#(PythonJSONEncoder().string(bad))}"#]
                ]
            )
        }
        // The whole id must be safe too: teardown has to be able to name it.
        #expect(Self.issues(id: "abcdefgh/../..").map(\.code) == [TopologyValidator.nameUnsafeCode])
        for bad: JSONValue in ["", 5, nil, ["id"]] {
            #expect(Check.summary(Self.issues(id: bad)) == [#"MALFORMED {"path":"/topology/id"}"#])
        }
        #expect(
            Check.summary(Check.validator.materialisationIssues(["lans": [], "deckies": [], "edges": []])) == [
                #"MALFORMED {"path":"/topology"}"#
            ]
        )
        #expect(Check.summary(Check.validator.materialisationIssues([1])) == [#"MALFORMED {"path":""}"#])
    }
}
