import DecnetJSON
import Testing
import Topology

/// Helpers shared by the hand-written validator tests.
enum Check {
    static let validator = TopologyValidator(knownServices: KnownServices.names)

    /// Parses a document written as JSON text (CPython's dialect: `NaN` allowed).
    static func doc(_ text: String) -> JSONValue {
        do { return try JSONParser.parse(text) } catch {
            Issue.record("fixture does not parse: \(error)")
            return .null
        }
    }

    /// Each issue as `CODE <compact target JSON>`, members in their order, raw values kept.
    static func summary(_ issues: [ValidationIssue]) -> [String] {
        issues.map { $0.code + " " + PythonJSONEncoder().string(.object($0.target)) }
    }

    static func summary(_ text: String) -> [String] { summary(validator.validate(doc(text)).issues) }

    /// A one-LAN, one-decky topology, with the given rows spliced in as JSON text.
    static func topology(lans: String? = nil, deckies: String? = nil, edges: String? = nil) -> String {
        """
        {"topology": {"id": "t1"},
         "lans": \(lans ?? #"[{"id": "L0", "name": "dmz", "subnet": "10.0.0.0/24", "is_dmz": true}]"#),
         "deckies": \(deckies ?? #"[{"uuid": "D0", "name": "gw", "services": ["ssh"], "decky_config": {"ips_by_lan": {"dmz": "10.0.0.2"}}}]"#),
         "edges": \(edges ?? #"[{"decky_uuid": "D0", "lan_id": "L0"}]"#)}
        """
    }
}
