import DecnetJSON
import TestSupport
import Testing

@testable import Topology

/// Large and hostile inputs: linear work, an issue limit instead of gigabytes of issues
/// (docs/deviations.md#issue-cap), and an overlap search that reports DECNET's pairs in DECNET's order without
/// comparing every pair.
@Suite("Validator limits and scale")
struct ValidatorLimitsTests {
    static let dmz: JSONValue = ["id": "L0", "name": "dmz", "subnet": "10.0.0.0/24", "is_dmz": true]

    @Test func issueListStopsAtTheLimit() {
        let deckies = (0..<12_000).map { i -> JSONValue in
            ["uuid": .string(JSONString("D\(i)")), "name": .string(JSONString("d\(i)"))]
        }
        let doc: JSONValue = ["lans": [Self.dmz], "deckies": .array(deckies), "edges": []]
        let report = Check.validator.validate(doc)
        #expect(report.issues.count == TopologyValidator.issueLimit)
        #expect(report.isTruncated && report.hasErrors)
        #expect(report.issues.allSatisfy { $0.code == "DECKY_ORPHAN" })
        #expect(report.issues.last?.target == ["decky": "d9999"])
        #expect(report.jsonValue["truncated"] == true)
    }

    @Test func hugeServiceStringIsCutShort() {
        let services = JSONValue.string(JSONString(String(repeating: "x", count: 1_000_000)))
        let doc: JSONValue = [
            "lans": [Self.dmz], "deckies": [["uuid": "D0", "name": "gw", "services": services]],
            "edges": [["decky_uuid": "D0", "lan_id": "L0"]],
        ]
        let report = Check.validator.validate(doc)
        #expect(report.issues.count == TopologyValidator.issueLimit && report.isTruncated)
        #expect(report.issues.first?.target == ["decky": "gw", "service": "x"])
    }

    @Test func longNamesAreShortenedInMessages() throws {
        let name = JSONValue.string(JSONString(String(repeating: "n", count: 100_000)))
        let doc: JSONValue = ["lans": [Self.dmz], "deckies": [["uuid": "D0", "name": name]], "edges": []]
        let issue = try #require(Check.validator.validate(doc).issues.first)
        #expect(issue.target == ["decky": name])
        #expect(issue.message.count < 400)
    }

    static func lans(_ count: Int, subnet: (Int) -> String) -> JSONValue {
        var rows: [JSONValue] = [Self.dmz]
        for i in 1..<count {
            rows.append([
                "id": .string(JSONString("L\(i)")), "name": .string(JSONString("lan-\(i)")),
                "subnet": .string(JSONString(subnet(i))),
            ])
        }
        return .array(rows)
    }

    @Test func twentyThousandDisjointLANs() {
        let doc: JSONValue = [
            "lans": Self.lans(20_000) { "10.\(1 + $0 / 256).\($0 % 256).0/24" }, "deckies": [], "edges": [],
        ]
        let report = Check.validator.validate(doc)
        // Every LAN but the DMZ is an orphan (one issue); none overlaps another.
        #expect(report.issues.map(\.code) == ["DMZ_ORPHAN"])
        #expect(report.issues.first?.target["lans"]?.arrayValue?.count == 19_999)
    }

    @Test func tenThousandIdenticalSubnetsHitTheLimitQuickly() {
        let doc: JSONValue = ["lans": Self.lans(10_000) { _ in "10.0.0.0/24" }, "deckies": [], "edges": []]
        let report = Check.validator.validate(doc)
        #expect(report.isTruncated)
        let overlaps = report.issues.filter { $0.code == "SUBNET_OVERLAP" }
        #expect(overlaps.first?.target == ["lans": ["dmz", "lan-1"]])
        #expect(overlaps.dropFirst(9_998).first?.target == ["lans": ["dmz", "lan-9999"]])
    }

    /// The overlap search against DECNET's all-pairs loop, on random networks built to nest and repeat.
    @Test(arguments: 1...5)
    func overlapFinderMatchesAllPairs(_ seed: Int) {
        var rng = SeededRandom(seed: UInt64(seed))
        let networks = (0..<400).map { _ -> IPv4Network in
            let prefix = Int.random(in: 0...32, using: &rng) / (Bool.random(using: &rng) ? 1 : 2) + 8
            let p = min(prefix, 32)
            let address = UInt32(0x0A00_0000) | (UInt32.random(in: 0...0xFFFF, using: &rng) << 8)
            return IPv4Network(address: IPv4Address(address & IPv4Network.mask(p)), prefixLength: p)
        }
        var expected: [[Int]] = []
        for i in networks.indices {
            for j in (i + 1)..<networks.count where networks[i].overlaps(networks[j]) { expected.append([i, j]) }
        }
        var found: [[Int]] = []
        SubnetOverlapFinder(networks).forEachOverlap { i, j in
            found.append([i, j])
            return true
        }
        #expect(expected.count > 100)
        #expect(found == expected)
        // Stopping early stops the search.
        var seen = 0
        SubnetOverlapFinder(networks).forEachOverlap { _, _ in
            seen += 1
            return seen < 10
        }
        #expect(seen == 10)
    }
}
