import DecnetJSON

/// Renders JSON values inside issue messages: JSON-style, bounded in length so a hostile megabyte-long name cannot
/// blow up every message that mentions it.
enum IssueText {
    static let maxLength = 96

    /// `"LAN-01"`, `42`, `null`, `["a", 1]`… cut with `…` after about `maxLength` characters.
    static func quote(_ value: JSONValue) -> String {
        var out = ""
        append(value, to: &out)
        return out
    }

    static func quote(_ string: JSONString) -> String { quote(.string(string)) }

    private static func append(_ value: JSONValue, to out: inout String) {
        guard out.unicodeScalars.count < maxLength else { return truncate(&out) }
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let i):
            let digits = i.description
            out += digits.count > 40 ? String(digits.prefix(20)) + "…(\(digits.count) digits)" : digits
        case .float(let d): out += PythonFloat.repr(d)
        case .string(let s): appendString(s.value, to: &out)
        case .array(let elements):
            out += "["
            for (i, e) in elements.enumerated() {
                if i > 0 { out += ", " }
                append(e, to: &out)
                if out.unicodeScalars.count >= maxLength { return truncate(&out) }
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (i, m) in object.members.enumerated() {
                if i > 0 { out += ", " }
                appendString(m.key.value, to: &out)
                out += ": "
                append(m.value, to: &out)
                if out.unicodeScalars.count >= maxLength { return truncate(&out) }
            }
            out += "}"
        }
    }

    private static func appendString(_ s: String, to out: inout String) {
        out += "\""
        var written = 0
        for ch in s.unicodeScalars {
            if written >= maxLength {
                out += "…"
                break
            }
            written += 1
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if ch.value < 0x20 || ch.value == 0x7F || (0x80..<0xA0).contains(ch.value)
                    || ch.value == 0x2028 || ch.value == 0x2029
                {
                    out += "\\u" + hex4(ch.value)
                } else {
                    out.unicodeScalars.append(ch)
                }
            }
        }
        out += "\""
    }

    private static func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 4 - h.count)) + h
    }

    private static func truncate(_ out: inout String) {
        if !out.hasSuffix("…") { out += "…" }
    }

    /// `"a", "b", "c"` for a list of names.
    static func list(_ values: [JSONValue]) -> String {
        var parts: [String] = []
        var total = 0
        for v in values {
            if total > 4 * maxLength {
                parts.append("… (\(values.count) in all)")
                break
            }
            let q = quote(v)
            total += q.count
            parts.append(q)
        }
        return parts.joined(separator: ", ")
    }
}
