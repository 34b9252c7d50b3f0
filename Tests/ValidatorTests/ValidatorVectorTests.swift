import DecnetJSON
import Foundation
import TestSupport
import Testing
import Topology

/// Every case of validate.json: same codes, severities, targets (raw values, member order) and order as CPython;
/// the cases where DECNET's Python raises become MALFORMED at the JSON pointer of the culprit.
@Suite("Validator vectors")
struct ValidatorVectorTests {
    static let cases = VectorCase.load("validate.json")
    static let raising = cases.filter { !($0["raises"]?.isNull ?? true) }
    static let nonRaising = cases.filter { $0["raises"]?.isNull ?? true }
    static let validator = TopologyValidator(knownServices: KnownServices.names)

    /// Where DECNET's Python raises, the pointer of what it tripped over.
    static let raisingPaths: [String: String] = [
        "raises_missing_edges_key": "/edges",
        "raises_edge_to_unknown_lan_on_multihomed_decky": "/edges/6/lan_id",
        "raises_lan_missing_subnet": "/lans/2/subnet",
        "raises_decky_missing_uuid": "/deckies/0/uuid",
    ]

    @Test func vectorsLoaded() {
        #expect(Self.cases.count == 46)
        #expect(Self.raising.count == 4)
        #expect(Self.catalogHasTwentySevenNames)
    }

    static var catalogHasTwentySevenNames: Bool {
        KnownServices.names.count == 27 && !KnownServices.names.contains("sniffer")
    }

    @Test(arguments: nonRaising)
    func issuesMatchCPython(_ c: VectorCase) throws {
        let input = try #require(c["input"])
        let expected = try #require(c["issues"]?.arrayValue)
        let report = Self.validator.validate(input)
        #expect(report.issues.map(\.code) == expected.map { $0["code"]?.stringValue ?? "?" })
        #expect(report.hasErrors == c["has_errors"]?.boolValue)
        #expect(!report.isTruncated)
        for (mine, theirs) in zip(report.issues, expected) {
            #expect(mine.severity.rawValue == theirs["severity"]?.stringValue)
            let target = try #require(theirs["target"]?.objectValue)
            #expect(mine.target == target, "\(mine.code) target")
            #expect(mine.target.keys == target.keys, "\(mine.code) target member order")
            // Our own wording: never DECNET's sentence, but it names what it is about.
            #expect(!mine.message.isEmpty)
            #expect(mine.message != theirs["message"]?.stringValue)
            for name in Self.namesIn(target) {
                #expect(mine.message.contains(name), "\(mine.code) message should name \(name): \(mine.message)")
            }
        }
    }

    @Test(arguments: raising)
    func raisingCasesBecomeMalformed(_ c: VectorCase) throws {
        let path = try #require(Self.raisingPaths[c.name], "no expected path for \(c.name)")
        let report = Self.validator.validate(try #require(c["input"]))
        #expect(report.hasErrors)
        let malformed = report.issues.filter { $0.code == TopologyValidator.malformedCode }
        #expect(malformed.map { $0.target["path"]?.stringValue } == [path])
        #expect(malformed.allSatisfy { $0.severity == .error && $0.target.keys == ["path"] })
        // Every other issue is an ordinary rule finding.
        #expect(report.issues.allSatisfy { TopologyValidator.ruleCodes.contains($0.code) || $0.code == "MALFORMED" })
    }

    /// The strings a target names (decky/LAN names, services): a message must mention each.
    static func namesIn(_ target: JSONObject) -> [String] {
        var names: [String] = []
        for (key, value) in target.members where key.value != "ip" {
            switch value {
            case .string(let s): names.append(s.value)
            case .array(let a): names += a.compactMap(\.stringValue)
            default: break
            }
        }
        // Look for the JSON-quoted form, so that a one-letter service iterated from a string is really named.
        return names.filter { !$0.unicodeScalars.contains { $0.value < 0x20 } }.map {
            "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
    }

    @Test func reportJSONShape() throws {
        let c = try #require(Self.cases.first { $0.name == "ip_malformed_null" })
        let json = Self.validator.validate(try #require(c["input"])).jsonValue
        #expect(json.objectValue?.keys == ["issues", "has_errors"])
        #expect(json["has_errors"] == true)
        let issue = try #require(json["issues"]?.arrayValue?.first)
        #expect(issue.objectValue?.keys == ["severity", "code", "message", "target"])
        #expect(issue["target"] == ["decky": "decky-004", "ip": nil])
        let valid = try #require(Self.cases.first { $0.name == "valid_base_topology" })
        #expect(Self.validator.validate(try #require(valid["input"])).jsonValue == ["issues": [], "has_errors": false])
    }
}
