import DecnetJSON
import Foundation
import TestSupport
import Testing

@testable import Topology

/// DECNET runs on CPython 3.11, whose `str.lower()`, `str.isprintable()` and `repr()` use Unicode 14.0; Swift's
/// tables are newer. Code points assigned in 15.0 (U+1FAE8, U+1E08F), 15.1 (U+2EBF0) and 16.0 (U+A7CB, U+A7CC,
/// U+A7CD, U+10D50, U+1CC00) must come out as CPython 3.11 writes them. Expected values from CPython 3.11.7.
@Suite("Python 3.11 Unicode")
struct PythonUnicodeTests {
    let composer = TopologyComposer(templatesRoot: "/opt/templates")

    @Test(
        arguments: [
            ("\u{A7CB}", "\u{A7CB}"), ("\u{A7CC}", "\u{A7CC}"), ("\u{10D50}", "\u{10D50}"),
            ("LAN-\u{1FAE8}", "lan-\u{1FAE8}"), ("\u{2EBF0}\u{3A3}", "\u{2EBF0}\u{3C3}"),
            // Final_Sigma: U+A7CD (16.0) is not cased and U+1E08F (15.0) not case-ignorable for CPython 3.11.
            ("A\u{A7CD}\u{3A3}", "a\u{A7CD}\u{3C3}"), ("A\u{1E08F}\u{3A3}", "a\u{1E08F}\u{3C3}"),
            ("\u{391}\u{3A3}\u{1CC00}", "\u{3B1}\u{3C2}\u{1CC00}"), ("\u{295}\u{3A3}", "\u{295}\u{3C2}"),
            ("KELVIN-\u{212A}", "kelvin-k"), ("\u{130}", "i\u{307}"),
        ] as [(String, String)]
    )
    func lanNamesLowerCaseAsCPython311(_ lan: String, _ lowered: String) throws {
        let plan = try composer.compose(
            TestTopology.hydrated(
                lans: [(lan, "10.0.0.0/24", true)],
                deckies: [.init(name: "d", services: [], ips: [(lan, JSONValue("10.0.0.2"))])]
            )
        )
        let network = "decnet_t_01234567_" + lowered
        #expect(plan.bridges.map { Array($0.name.unicodeScalars) } == [Array(network.unicodeScalars)])
        #expect(
            plan.document["networks"]?.objectValue?.keys.map { Array($0.value.unicodeScalars) }
                == [Array(network.unicodeScalars)]
        )
        #expect(
            plan.document["services"]?["d"]?["networks"]?.objectValue?.keys.map { (k: JSONString) in
                k.value.unicodeScalars.count
            }
                == [network.unicodeScalars.count]
        )
    }

    /// `str()` of a list prints its strings with `repr()`, which escapes what CPython 3.11 finds unprintable.
    @Test(
        arguments: [
            ("\u{1FAE8}", #"['\U0001fae8']"#), ("\u{2EBF0}", #"['\U0002ebf0']"#), ("\u{A7CB}", #"['\ua7cb']"#),
            ("\u{1CC00}", #"['\U0001cc00']"#), ("\u{10D50}", #"['\U00010d50']"#), ("\u{295}", "['\u{295}']"),
            ("\u{E9}\u{A0}\u{200B}", #"['é\xa0\u200b']"#),
        ] as [(String, String)]
    )
    func knobValuesPrintAsCPython311(_ value: String, _ text: String) throws {
        let plan = try composer.compose(
            TestTopology.hydrated(deckies: [
                .init(name: "w", services: ["https"], serviceConfig: ["https": ["response_code": [JSONValue(value)]]])
            ])
        )
        let env = try #require(TestTopology.environment(plan, "w-https"))
        #expect(env["RESPONSE_CODE"]?.stringValue.map { Array($0.unicodeScalars) } == Array(text.unicodeScalars))
    }

    /// For every code point but the surrogates, `lower()`, `isprintable()` and the Final_Sigma case class equal
    /// CPython 3.11's, as recorded in `python311_unicode.json` (scripts/gen-python-unicode.py writes it;
    /// interop/test_python_unicode.py checks it against the running CPython).
    @Test func everyCodePointAgreesWithCPython311() throws {
        let fixture = try Fixtures.json("python311_unicode.json")
        func ints(_ v: JSONValue) -> [Int] { (v.arrayValue ?? []).compactMap(\.intValue) }
        func ranges(_ key: String) -> [ClosedRange<UInt32>] {
            (fixture[key]?.arrayValue ?? []).map(ints).filter { $0.count == 2 }.map { UInt32($0[0])...UInt32($0[1]) }
        }
        func flags(_ key: String) -> [Bool] {
            var out = [Bool](repeating: false, count: 0x110000)
            for r in ranges(key) { for v in r { out[Int(v)] = true } }
            return out
        }
        let printable = flags("printable")
        let cased = flags("cased")
        let ignorable = flags("ignorable")
        var lower = [String?](repeating: nil, count: 0x110000)
        for run in (fixture["lower_runs"]?.arrayValue ?? []).map(ints) where run.count == 4 {
            for v in stride(from: run[0], through: run[1], by: run[2]) {
                lower[v] = Unicode.Scalar(UInt32(v + run[3])).map { String($0) }
            }
        }
        for entry in fixture["lower_multi"]?.arrayValue ?? [] {
            guard let pair = entry.arrayValue, pair.count == 2, let cp = pair[0].intValue else { continue }
            lower[cp] = String(String.UnicodeScalarView(ints(pair[1]).compactMap { Unicode.Scalar(UInt32($0)) }))
        }
        #expect(ranges("printable").count > 500 && fixture["unicode"] == "14.0.0")
        var mismatches: [String] = []
        for v in UInt32(0)...0x10FFFF {
            guard let s = Unicode.Scalar(v) else { continue }
            let i = Int(v)
            let expectedLower = lower[i] ?? String(s)
            let expectedClass: PythonUnicode.CaseClass = ignorable[i] ? .ignorable : (cased[i] ? .cased : .none)
            if !PythonUnicode.lowercaseMapping(s).unicodeScalars.elementsEqual(expectedLower.unicodeScalars)
                || PythonUnicode.isPrintable(s) != printable[i] || PythonUnicode.caseClass(s) != expectedClass
            {
                mismatches.append("U+" + String(v, radix: 16, uppercase: true))
                if mismatches.count >= 20 { break }
            }
        }
        #expect(mismatches == [])
    }
}
