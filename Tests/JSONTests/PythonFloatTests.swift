import DecnetJSON
import TestSupport
import Testing

@Suite("Python float repr")
struct PythonFloatTests {
    /// 2,678 doubles (random bit patterns, decimal-looking values and boundaries) with CPython 3.11's repr.
    @Test func matchesCPythonRepr() throws {
        let fixture = try Fixtures.json("float_repr.json")
        let cases = try #require(fixture["cases"]?.arrayValue)
        #expect(cases.count > 2000)
        var failures: [String] = []
        for c in cases {
            guard let pair = c.arrayValue, let bitsHex = pair[0].stringValue, let expected = pair[1].stringValue,
                let bits = UInt64(bitsHex, radix: 16)
            else {
                Issue.record("bad fixture row \(c)")
                continue
            }
            let got = PythonFloat.repr(Double(bitPattern: bits))
            if got != expected { failures.append("\(bitsHex): got \(got), want \(expected)") }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
    }

    @Test(arguments: [
        (1e16, "1e+16"), (1e15, "1000000000000000.0"), (0.0001, "0.0001"), (0.00001, "1e-05"),
        (-0.0, "-0.0"), (0.0, "0.0"), (5e-324, "5e-324"), (123456789.0, "123456789.0"),
        (1.2345678901234568e+17, "1.2345678901234568e+17"), (Double.nan, "NaN"), (Double.infinity, "Infinity"),
        (-Double.infinity, "-Infinity"), (1.5e300, "1.5e+300"),
    ])
    func knownForms(_ value: Double, _ expected: String) {
        #expect(PythonFloat.repr(value) == expected)
    }
}
