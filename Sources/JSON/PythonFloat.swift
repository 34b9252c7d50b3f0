/// CPython's `float.__repr__`: the shortest decimal string that round-trips, in fixed notation when the decimal
/// exponent is in -4..<16 (with `.0` added to whole numbers) and scientific otherwise (`1e-05`, `1e+16`,
/// `1.5e+300`: explicit sign, at least two exponent digits). `nan`/`inf` are written as JSON's non-standard tokens
/// `NaN`, `Infinity` and `-Infinity`, as `json.dumps` does.
public enum PythonFloat {
    public static func repr(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        let (digits, pointPosition) = shortestDigits(value.magnitude)
        let sign = value < 0 ? "-" : ""
        // value = 0.d1d2...dn × 10^pointPosition, so the scientific exponent is pointPosition - 1.
        let exponent = pointPosition - 1
        let n = digits.count
        if exponent >= -4 && exponent < 16 {
            if pointPosition <= 0 {
                return sign + "0." + String(repeating: "0", count: -pointPosition) + digits
            }
            if pointPosition < n {
                let i = digits.index(digits.startIndex, offsetBy: pointPosition)
                return sign + digits[..<i] + "." + digits[i...]
            }
            return sign + digits + String(repeating: "0", count: pointPosition - n) + ".0"
        }
        var out = sign + String(digits.first!)
        if n > 1 { out += "." + digits.dropFirst() }
        let mag = abs(exponent)
        out += exponent < 0 ? "e-" : "e+"
        out += mag < 10 ? "0\(mag)" : "\(mag)"
        return out
    }

    /// The shortest round-trip digits of a positive finite double, and where the decimal point goes.
    ///
    /// Swift's `description` already produces the shortest round-trip digits (closest to the exact value on ties, as
    /// David Gay's algorithm in CPython does); only its layout differs, so we take the digits apart and lay them out
    /// again with Python's rules.
    static func shortestDigits(_ value: Double) -> (digits: String, pointPosition: Int) {
        let text = value.description
        var mantissa = Substring(text)
        var exp = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exp = Int(text[text.index(after: e)...])!
        }
        var digits = ""
        var point = 0
        var seenPoint = false
        for ch in mantissa {
            if ch == "." {
                seenPoint = true
                continue
            }
            digits.append(ch)
            if !seenPoint { point += 1 }
        }
        // Strip leading zeros (moving the point), then trailing zeros.
        while digits.count > 1, digits.first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while digits.count > 1, digits.last == "0" { digits.removeLast() }
        return (digits, point + exp)
    }
}
