import DecnetJSON

/// YAML text of scalars (and of empty collections) for `ComposeYAML`.
enum YAMLScalar {
    static func inline(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .integer(let i): return i.description
        case .float(let d): return float(d)
        case .string(let s): return string(s.value)
        case .array: return "[]"
        case .object: return "{}"
        }
    }

    /// A float that YAML 1.1 (PyYAML) and 1.2 both read as a float: `.inf`, `.nan`, and a mantissa that always has
    /// a `.` (PyYAML's float pattern needs one: Python's `1e-07` becomes `1.0e-07`).
    static func float(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        let text = PythonFloat.repr(d)
        guard let e = text.firstIndex(of: "e"), !text[..<e].contains(".") else { return text }
        return text[..<e] + ".0" + text[e...]
    }

    /// Words some YAML resolver (1.1 booleans incl. y/n, null, 1.2 core) reads as a non-string, compared
    /// case-insensitively.
    static let reservedWords: Set<String> = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null",
    ]

    /// A string, plain when that is unambiguous, else double-quoted.
    static func string(_ s: String) -> String {
        isSafePlain(s) ? s : doubleQuoted(s)
    }

    /// Plain only for `[A-Za-z_/][A-Za-z0-9_./@+=:-]*` that does not end with `:` and is not a reserved word. A
    /// leading letter, `_` or `/` rules out numbers, timestamps, `.inf`, indicators and `<<`; the character set rules
    /// out comments, flow indicators and `: `.
    static func isSafePlain(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard let first = bytes.first, isLetter(first) || first == UInt8(ascii: "_") || first == UInt8(ascii: "/")
        else { return false }
        for b in bytes.dropFirst() {
            guard isLetter(b) || (b >= 0x30 && b <= 0x39) || "_./@+=:-".utf8.contains(b) else { return false }
        }
        if bytes.last == UInt8(ascii: ":") { return false }
        return !reservedWords.contains(s.lowercased())
    }

    private static func isLetter(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    /// YAML double-quoted style, ASCII only: `\\`, `\"`, C escapes for controls, `\xNN`, `\uNNNN`, `\UNNNNNNNN`.
    static func doubleQuoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x5C: out += "\\\\"
            case 0x22: out += "\\\""
            case 0x00: out += "\\0"
            case 0x09: out += "\\t"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x20..<0x7F: out.unicodeScalars.append(scalar)
            case 0..<0x100: out += "\\x" + hex(scalar.value, 2)
            case 0x100..<0x10000: out += "\\u" + hex(scalar.value, 4)
            default: out += "\\U" + hex(scalar.value, 8)
            }
        }
        return out + "\""
    }

    private static func hex(_ v: UInt32, _ width: Int) -> String {
        let digits = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
