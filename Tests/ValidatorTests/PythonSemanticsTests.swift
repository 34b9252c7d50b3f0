import DecnetJSON
import Testing

@testable import Topology

/// The Python behaviour DECNET's rules inherit: truthiness, iteration, dict/set key equality. Expected lists for
/// documents Python accepts were produced by running DECNET's seed rules under CPython 3.11.
@Suite("Python semantics of the rules")
struct PythonSemanticsTests {
    @Test func intAndBoolIPsCollideButStringsDoNot() {
        let lan = #"[{"id": "L0", "name": "dmz", "subnet": "0.0.0.0/24", "is_dmz": true}]"#
        let deckies = """
            [{"uuid": "D0", "name": "a", "decky_config": {"ips_by_lan": {"dmz": 1}}},
             {"uuid": "D1", "name": "b", "decky_config": {"ips_by_lan": {"dmz": true}}},
             {"uuid": "D2", "name": "c", "decky_config": {"ips_by_lan": {"dmz": "0.0.0.1"}}}]
            """
        let edges =
            #"[{"decky_uuid": "D0", "lan_id": "L0"}, {"decky_uuid": "D1", "lan_id": "L0"}, {"decky_uuid": "D2", "lan_id": "L0"}]"#
        #expect(
            Check.summary(Check.topology(lans: lan, deckies: deckies, edges: edges))
                == [#"IP_COLLISION {"lan":"dmz","ip":true,"deckies":["a","b"]}"#]
        )
        let stringVsInt = """
            [{"uuid": "D0", "name": "a", "decky_config": {"ips_by_lan": {"dmz": "10.0.0.2"}}},
             {"uuid": "D1", "name": "b", "decky_config": {"ips_by_lan": {"dmz": 167772162}}}]
            """
        let twoEdges = #"[{"decky_uuid": "D0", "lan_id": "L0"}, {"decky_uuid": "D1", "lan_id": "L0"}]"#
        #expect(Check.summary(Check.topology(deckies: stringVsInt, edges: twoEdges)) == [])
    }

    @Test func emptyObjectOrStringTablesIterateToNothing() {
        for empty in ["{}", #""""#, "[]"] {
            #expect(Check.summary(Check.topology(lans: empty, deckies: "[]", edges: "[]")) == ["DMZ_MISSING {}"])
        }
        // A non-empty string or object yields strings, which are not rows: that is where Python raises.
        #expect(
            Check.summary(Check.topology(lans: #""abc""#, deckies: "[]", edges: "[]")) == [
                #"MALFORMED {"path":"/lans"}"#
            ]
        )
        #expect(
            Check.summary(Check.topology(lans: "{}", deckies: #"{"D0": {}}"#, edges: "[]")) == [
                "DMZ_MISSING {}", #"MALFORMED {"path":"/deckies"}"#,
            ]
        )
    }

    @Test func numericNamesCollideAcrossIntFloatAndBool() {
        let lans = """
            [{"id": "L0", "name": "dmz", "subnet": "10.0.0.0/24", "is_dmz": true},
             {"id": "L1", "name": 1, "subnet": "10.0.1.0/24"}, {"id": "L2", "name": 1.0, "subnet": "10.0.2.0/24"},
             {"id": "L3", "name": true, "subnet": "10.0.3.0/24"}]
            """
        let edges = (0..<4).map { #"{"decky_uuid": "D0", "lan_id": "L\#($0)"}"# }.joined(separator: ",")
        #expect(
            Check.summary(Check.topology(lans: lans, edges: "[\(edges)]")) == [
                #"LAN_NAME_DUP {"lan":1.0}"#, #"LAN_NAME_DUP {"lan":true}"#,
            ]
        )
    }

    @Test(arguments: [
        (#"0, -0.0, false, "0""#, [#"DECKY_NAME_DUP {"decky":-0.0}"#, #"DECKY_NAME_DUP {"decky":false}"#]),
        ("100000000000000000000, 1e20, 9007199254740993, 9007199254740992.0", [#"DECKY_NAME_DUP {"decky":1e+20}"#]),
        // json.loads shares one NaN object, and dict/set lookups compare identity first.
        ("NaN, NaN, Infinity, 1e400", [#"DECKY_NAME_DUP {"decky":NaN}"#, #"DECKY_NAME_DUP {"decky":Infinity}"#]),
        (#""caf\u00e9", "cafe\u0301", null, null"#, [#"DECKY_NAME_DUP {"decky":null}"#]),
    ])
    func deckyNameKeyEquality(_ names: String, _ expected: [String]) {
        let list = names.split(separator: ",").map { $0.trimmingSpaces() }
        let deckies = list.enumerated().map { #"{"uuid": "D\#($0)", "name": \#($1)}"# }.joined(separator: ",")
        let edges = list.indices.map { #"{"decky_uuid": "D\#($0)", "lan_id": "L0"}"# }.joined(separator: ",")
        #expect(Check.summary(Check.topology(deckies: "[\(deckies)]", edges: "[\(edges)]")) == expected)
    }

    @Test func falsyDeckyConfigIsAnEmptyConfig() {
        let deckies =
            #"[{"uuid": "D0", "name": "a", "decky_config": null}, {"uuid": "D1", "name": "b", "decky_config": []}, {"uuid": "D2", "name": "c", "decky_config": ""}, {"uuid": "D3", "name": "d", "decky_config": 0}, {"uuid": "D4", "name": "e"}]"#
        let edges = (0..<5).map { #"{"decky_uuid": "D\#($0)", "lan_id": "L0"}"# }.joined(separator: ",")
        #expect(Check.summary(Check.topology(deckies: deckies, edges: "[\(edges)]")) == [])
    }

    @Test func iterationOfServicesAndServiceConfig() {
        let objectServices = #"[{"uuid": "D0", "name": "a", "services": {"ssh": 1, "nope": 2}}]"#
        #expect(
            Check.summary(Check.topology(deckies: objectServices)) == [
                #"UNKNOWN_SERVICE {"decky":"a","service":"nope"}"#
            ]
        )
        let configs = """
            [{"uuid": "D0", "name": "a", "services": ["ssh"], "decky_config": {"service_config": null}},
             {"uuid": "D1", "name": "b", "services": ["ssh"], "decky_config": {"service_config": 0}},
             {"uuid": "D2", "name": "c", "services": ["s", "h"], "decky_config": {"service_config": "ssh"}}]
            """
        let edges = (0..<3).map { #"{"decky_uuid": "D\#($0)", "lan_id": "L0"}"# }.joined(separator: ",")
        #expect(
            Check.summary(Check.topology(deckies: configs, edges: "[\(edges)]"))
                == [#"UNKNOWN_SERVICE {"decky":"c","service":"s"}"#, #"UNKNOWN_SERVICE {"decky":"c","service":"h"}"#]
        )
    }

    @Test func netmaskSubnetsOverlap() {
        let lans =
            #"[{"id": "L0", "name": "dmz", "subnet": "10.0.0.0/24", "is_dmz": true}, {"id": "L1", "name": "wide", "subnet": "10.0.0.0/255.255.0.0"}]"#
        let edges = #"[{"decky_uuid": "D0", "lan_id": "L0"}, {"decky_uuid": "D0", "lan_id": "L1"}]"#
        let issues = Check.validator.validate(Check.doc(Check.topology(lans: lans, edges: edges))).issues
        #expect(Check.summary(issues) == [#"SUBNET_OVERLAP {"lans":["dmz","wide"]}"#])
        #expect(issues.first?.message.contains("10.0.0.0/16") == true)
    }

    @Test func pyKeyEquality() throws {
        func key(_ text: String) throws -> PyKey? { PyKey(try JSONParser.parse(text)) }
        #expect(try key("1") == key("1.0") && key("1") == key("true"))
        #expect(try key("0") == key("-0.0") && key("0") == key("false"))
        #expect(try key("1") != key(#""1""#) && key("null") != key("0"))
        #expect(try key("18446744073709551616") == key("1.8446744073709552e19"))
        #expect(try key("9007199254740993") != key("9007199254740992.0"))
        #expect(try key("-9223372036854775808") == key("-9.223372036854776e18"))
        #expect(try key("NaN") == key("NaN") && key("NaN") != key("Infinity"))
        #expect(try key("1.5") != key("1") && key("Infinity") != key("-Infinity"))
        #expect(try key(#""\u00e9""#) != key(#""e\u0301""#))
        #expect(try key("[]") == nil && key("{}") == nil)
        #expect(
            PyKey.exactInteger(1e300).description
                == "1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160"
        )
        #expect(PyKey.exactInteger(-0x1p63).description == "-9223372036854775808")
    }

    @Test func pointerEscaping() {
        #expect(JSONPointer.root.description == "")
        #expect(JSONPointer.root.appending("a/b").appending("m~n").appending(3).description == "/a~1b/m~0n/3")
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
