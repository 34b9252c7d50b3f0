import DecnetJSON

/// The few Python text functions the composer reproduces: `str.lower()`, `str(value)`, `repr(value)` and
/// `json.dumps(value)` with default arguments.
enum PythonText {
    /// Python's `str.lower()` as CPython 3.11 does it: the full lower-case mapping of every code point, plus the
    /// Final_Sigma rule (a capital sigma that ends a word becomes `ς`), which Swift's `lowercased()` does not apply,
    /// all with CPython's Unicode 14.0 data (`PythonUnicode`).
    static func lower(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        for (i, s) in scalars.enumerated() {
            if s.isASCII {
                out.append(s.value >= 0x41 && s.value <= 0x5A ? Unicode.Scalar(s.value + 0x20)! : s)
            } else if s.value == 0x03A3 {
                out.append(isFinalSigma(scalars, at: i) ? "\u{03C2}" : "\u{03C3}")
            } else {
                out.append(contentsOf: PythonUnicode.lowercaseMapping(s).unicodeScalars)
            }
        }
        return String(out)
    }

    /// Unicode's Final_Sigma context: a cased letter before (skipping case-ignorables) and none after.
    private static func isFinalSigma(_ scalars: [Unicode.Scalar], at i: Int) -> Bool {
        var j = i - 1
        while j >= 0, PythonUnicode.caseClass(scalars[j]) == .ignorable { j -= 1 }
        guard j >= 0, PythonUnicode.caseClass(scalars[j]) == .cased else { return false }
        var k = i + 1
        while k < scalars.count, PythonUnicode.caseClass(scalars[k]) == .ignorable { k += 1 }
        return k == scalars.count || PythonUnicode.caseClass(scalars[k]) != .cased
    }

    /// Python's `str(value)` of a JSON-decoded value: strings unchanged, everything else as `repr`.
    static func str(_ value: JSONValue) -> String {
        if case .string(let s) = value { return s.value }
        return repr(value)
    }

    /// Python's `repr` of a JSON-decoded value (`None`, `True`, `5`, `1e+16`, `'text'`, `['a', 1]`, `{'k': None}`).
    static func repr(_ value: JSONValue) -> String {
        switch value {
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .integer(let i): return i.description
        case .float(let d):
            if d.isNaN { return "nan" }
            if d.isInfinite { return d < 0 ? "-inf" : "inf" }
            return PythonFloat.repr(d)
        case .string(let s): return reprString(s.value)
        case .array(let a): return "[" + a.map(repr).joined(separator: ", ") + "]"
        case .object(let o):
            return "{" + o.members.map { reprString($0.key.value) + ": " + repr($0.value) }.joined(separator: ", ")
                + "}"
        }
    }

    /// `repr(str)`: single quotes unless the text has `'` and no `"`; code points CPython 3.11 finds unprintable
    /// escaped.
    static func reprString(_ text: String) -> String {
        let scalars = text.unicodeScalars
        let quote: Unicode.Scalar = scalars.contains("'") && !scalars.contains("\"") ? "\"" : "'"
        var out = String(Character(quote))
        for s in text.unicodeScalars {
            switch s {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "'" where quote == "'": out += "\\'"
            default:
                if s.value < 0x20 || s.value == 0x7F {
                    out += "\\x" + hex(s.value, width: 2)
                } else if s.value < 0x7F || PythonUnicode.isPrintable(s) {
                    out.unicodeScalars.append(s)
                } else if s.value <= 0xFF {
                    out += "\\x" + hex(s.value, width: 2)
                } else if s.value <= 0xFFFF {
                    out += "\\u" + hex(s.value, width: 4)
                } else {
                    out += "\\U" + hex(s.value, width: 8)
                }
            }
        }
        out.unicodeScalars.append(quote)
        return out
    }

    private static func hex(_ v: UInt32, width: Int) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// `json.dumps(value)` with default arguments: ASCII only, separators `", "` and `": "`, keys in order.
    static func jsonDumps(_ value: JSONValue) -> String {
        switch value {
        case .array(let a):
            return "[" + a.map(jsonDumps).joined(separator: ", ") + "]"
        case .object(let o):
            return "{"
                + o.members.map { scalarJSON(.string($0.key)) + ": " + jsonDumps($0.value) }
                .joined(separator: ", ") + "}"
        default:
            return scalarJSON(value)
        }
    }

    private static func scalarJSON(_ value: JSONValue) -> String {
        PythonJSONEncoder(sortKeys: false, asciiOnly: true).string(value)
    }
}
