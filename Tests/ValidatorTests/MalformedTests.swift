import DecnetJSON
import Testing
import Topology

/// docs/deviations.md#malformed-issues: where DECNET's Python raises, one MALFORMED per location (RFC 6901 pointer),
/// and the rest of the rules still run; where Python copes, no MALFORMED.
@Suite("MALFORMED instead of Python crashes")
struct MalformedTests {
    @Test func documentThatIsNotAnObject() {
        for text in ["[]", #""topology""#, "42", "null", "true"] {
            #expect(Check.summary(text) == [#"MALFORMED {"path":""}"#])
        }
    }

    @Test func missingTablesAreEachReportedOnceInRuleOrder() {
        #expect(
            Check.summary("{}")
                == [#"MALFORMED {"path":"/lans"}"#, #"MALFORMED {"path":"/edges"}"#, #"MALFORMED {"path":"/deckies"}"#]
        )
        #expect(
            Check.summary(#"{"lans": 5, "deckies": null, "edges": true}"#)
                == [#"MALFORMED {"path":"/lans"}"#, #"MALFORMED {"path":"/edges"}"#, #"MALFORMED {"path":"/deckies"}"#]
        )
    }

    @Test(arguments: [
        // A row that is not an object.
        (
            Check.topology(lans: #"[5, {"id": "L0", "name": "dmz", "subnet": "10.0.0.0/24", "is_dmz": true}]"#),
            [#"MALFORMED {"path":"/lans/0"}"#]
        ),
        (Check.topology(edges: #"[{"decky_uuid": "D0", "lan_id": "L0"}, "x"]"#), [#"MALFORMED {"path":"/edges/1"}"#]),
        // Missing keys Python indexes with [].
        (
            Check.topology(lans: #"[{"name": "dmz", "subnet": "10.0.0.0/24", "is_dmz": true}]"#),
            [#"MALFORMED {"path":"/lans/0/id"}"#]
        ),
        (
            Check.topology(deckies: #"[{"uuid": "D0", "services": ["ssh"]}]"#),
            [#"MALFORMED {"path":"/deckies/0/name"}"#]
        ),
        (
            Check.topology(edges: #"[{"lan_id": "L0"}]"#),
            [#"MALFORMED {"path":"/edges/0/decky_uuid"}"#, #"DECKY_ORPHAN {"decky":"gw"}"#]
        ),
        // Unhashable keys.
        (
            Check.topology(lans: #"[{"id": ["L0"], "name": "dmz", "subnet": "10.0.0.0/24", "is_dmz": true}]"#),
            [#"MALFORMED {"path":"/lans/0/id"}"#]
        ),
        (Check.topology(deckies: #"[{"uuid": {"u": 1}, "name": "gw"}]"#), [#"MALFORMED {"path":"/deckies/0/uuid"}"#]),
        // A list-valued decky name only breaks the rule that hashes it; the others use it as a plain value.
        (
            Check.topology(
                deckies:
                    #"[{"uuid": "D0", "name": ["x"], "services": ["nope"], "decky_config": {"ips_by_lan": {"dmz": "10.0.0.2"}}}]"#
            ),
            [#"MALFORMED {"path":"/deckies/0/name"}"#, #"UNKNOWN_SERVICE {"decky":["x"],"service":"nope"}"#]
        ),
        // decky_config: falsy is fine, a truthy non-object is not; ips_by_lan must be an object when present.
        (
            Check.topology(deckies: #"[{"uuid": "D0", "name": "gw", "decky_config": "x"}]"#),
            [#"MALFORMED {"path":"/deckies/0/decky_config"}"#]
        ),
        (
            Check.topology(deckies: #"[{"uuid": "D0", "name": "gw", "decky_config": {"ips_by_lan": null}}]"#),
            [#"MALFORMED {"path":"/deckies/0/decky_config/ips_by_lan"}"#]
        ),
        (
            Check.topology(deckies: #"[{"uuid": "D0", "name": "gw", "decky_config": {"ips_by_lan": []}}]"#),
            [#"MALFORMED {"path":"/deckies/0/decky_config/ips_by_lan"}"#]
        ),
        // services and service_config that cannot be iterated, or hold unhashable entries.
        (
            Check.topology(deckies: #"[{"uuid": "D0", "name": "gw", "services": null}]"#),
            [#"MALFORMED {"path":"/deckies/0/services"}"#]
        ),
        (
            Check.topology(deckies: #"[{"uuid": "D0", "name": "gw", "services": [["ssh"], "nope"]}]"#),
            [#"MALFORMED {"path":"/deckies/0/services/0"}"#, #"UNKNOWN_SERVICE {"decky":"gw","service":"nope"}"#]
        ),
        (
            Check.topology(
                deckies: #"[{"uuid": "D0", "name": "gw", "services": ["ssh"], "decky_config": {"service_config": 5}}]"#
            ),
            [#"MALFORMED {"path":"/deckies/0/decky_config/service_config"}"#]
        ),
        (
            Check.topology(
                deckies:
                    #"[{"uuid": "D0", "name": "gw", "services": ["ssh"], "decky_config": {"service_config": [{"rdp": 1}, "rdp"]}}]"#
            ),
            [
                #"MALFORMED {"path":"/deckies/0/decky_config/service_config/0"}"#,
                #"SERVICE_CFG_UNDECLARED {"decky":"gw","service":"rdp"}"#,
            ]
        ),
        // An orphan LAN whose name is not a string breaks only the orphan message (Python joins the names).
        (
            Check.topology(
                lans:
                    #"[{"id": "L0", "name": "dmz", "subnet": "10.0.0.0/24", "is_dmz": true}, {"id": "L1", "name": 7, "subnet": "10.0.1.0/24"}, {"id": "L2", "name": "far", "subnet": "10.0.2.0/24"}]"#
            ),
            [#"MALFORMED {"path":"/lans/1/name"}"#, #"DMZ_ORPHAN {"lans":["far"]}"#]
        ),
        // A missing subnet: Python raises in the IP rule and in the subnet rule; one MALFORMED for both.
        (
            Check.topology(lans: #"[{"id": "L0", "name": "dmz", "is_dmz": true}]"#),
            [#"MALFORMED {"path":"/lans/0/subnet"}"#]
        ),
    ])
    func structuralProblem(_ text: String, _ expected: [String]) {
        let report = Check.validator.validate(Check.doc(text))
        #expect(Check.summary(report.issues) == expected)
        #expect(report.hasErrors)
    }

    @Test func unknownLANOnMultiHomedDeckyIsReportedPerEdge() {
        let edges = """
            [{"decky_uuid": "D0", "lan_id": "L0"}, {"decky_uuid": "D0", "lan_id": "nowhere"},
             {"decky_uuid": "D1", "lan_id": "elsewhere"}, {"decky_uuid": "D0", "lan_id": "nowhere"}]
            """
        // D1 is single-homed: its unknown LAN is ignored, as in Python.
        #expect(
            Check.summary(Check.topology(edges: edges))
                == [#"MALFORMED {"path":"/edges/1/lan_id"}"#, #"MALFORMED {"path":"/edges/3/lan_id"}"#]
        )
    }

    @Test func everyProblemIsCollected() {
        let text = """
            {"lans": [{"id": "L0", "name": "dmz", "is_dmz": true}, 3, {"id": "L1", "name": "dmz", "subnet": "10.0.0.0/33"}],
             "deckies": [{"name": "a", "services": ["warp"]}, {"uuid": "D1", "name": "a", "decky_config": {"ips_by_lan": {"dmz": "10.0.0.2"}}}],
             "edges": [{"decky_uuid": "D1"}]}
            """
        let issues = Check.summary(text)
        // Rule by rule: the edge without lan_id shows up while rule 2 walks the edges, before its orphan report;
        // decky 0 has no uuid, decky 1 has an edge; "dmz" resolves to the last LAN of that name, whose subnet is bad.
        #expect(
            issues == [
                #"MALFORMED {"path":"/lans/1"}"#, #"MALFORMED {"path":"/edges/0/lan_id"}"#,
                #"DMZ_ORPHAN {"lans":["dmz"]}"#, #"MALFORMED {"path":"/deckies/0/uuid"}"#,
                #"LAN_NAME_DUP {"lan":"dmz"}"#, #"DECKY_NAME_DUP {"decky":"a"}"#,
                #"IP_MALFORMED {"decky":"a","ip":"10.0.0.2"}"#, #"MALFORMED {"path":"/lans/0/subnet"}"#,
                #"SUBNET_MALFORMED {"lan":"dmz"}"#, #"UNKNOWN_SERVICE {"decky":"a","service":"warp"}"#,
            ]
        )
    }

    @Test func messagesNameTheLocation() {
        let report = Check.validator.validate(
            Check.doc(Check.topology(lans: #"[{"id": "L0", "name": "dmz", "is_dmz": true}]"#))
        )
        let issue = report.issues.first { $0.code == "MALFORMED" }
        #expect(issue?.message.hasPrefix("/lans/0/subnet") == true)
        #expect(issue?.message.contains("\"subnet\"") == true)
    }
}
