/// A JSON parser with CPython `json.loads` value semantics (see `JSONValue`).
///
/// Accepted beyond RFC 8259, as CPython does: the `NaN`, `Infinity` and `-Infinity` tokens, and a leading UTF-8 byte
/// order mark (bytes input). Refused, with a `JSONParseError`: invalid UTF-8, lone surrogates (which a Swift `String`
/// cannot hold), integers longer than CPython's 4,300-digit limit, and nesting deeper than `maxDepth`. UTF-16 and
/// UTF-32 input, which CPython's `json.loads` on bytes would decode, is refused (docs/deviations.md#utf8-only).
public struct JSONParser {
    /// CPython 3.11's default `sys.get_int_max_str_digits()`.
    public static let maxIntegerDigits = 4300
    public static let defaultMaxDepth = 512

    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }

    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buf) throws(JSONParseError) -> JSONValue in
            var p = JSONParser(buf, maxDepth: maxDepth)
            return try p.parseDocument()
        }
    }

    public static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>,
        maxDepth: Int = defaultMaxDepth
    ) throws(JSONParseError) -> JSONValue {
        var p = JSONParser(bytes, maxDepth: maxDepth)
        return try p.parseDocument()
    }

    private let buf: UnsafeBufferPointer<UInt8>
    private var pos = 0
    private var depth = 0
    private let maxDepth: Int
    private var scratch: [UInt8] = []

    private init(_ buf: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.buf = buf
        self.maxDepth = maxDepth
    }

    private mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        if buf.count >= 3, buf[0] == 0xEF, buf[1] == 0xBB, buf[2] == 0xBF { pos = 3 }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if pos != buf.count {
            throw JSONParseError(.trailingData, at: pos, "extra data after the JSON value")
        }
        return value
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while pos < buf.count {
            switch buf[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    private func unexpected(_ what: String) -> JSONParseError {
        if pos >= buf.count {
            return JSONParseError(.unexpectedEnd, at: pos, "unexpected end of input, expecting \(what)")
        }
        let b = buf[pos]
        let shown = (b >= 0x20 && b < 0x7F) ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(String(b, radix: 16))"
        return JSONParseError(.unexpectedCharacter, at: pos, "unexpected \(shown), expecting \(what)")
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard pos < buf.count else { throw unexpected("a value") }
        switch buf[pos] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(JSONString(try parseString()))
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "N"):
            try expectLiteral("NaN")
            return .float(.nan)
        case UInt8(ascii: "I"):
            try expectLiteral("Infinity")
            return .float(.infinity)
        case UInt8(ascii: "-"):
            if pos + 1 < buf.count, buf[pos + 1] == UInt8(ascii: "I") {
                pos += 1
                try expectLiteral("Infinity")
                return .float(-.infinity)
            }
            return try parseNumber()
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw unexpected("a value")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = pos
        let n = literal.utf8CodeUnitCount
        let lit = UnsafeBufferPointer(start: literal.utf8Start, count: n)
        guard pos + n <= buf.count else { throw unexpected("a value") }
        for i in 0..<n where buf[pos + i] != lit[i] {
            pos = start
            throw unexpected("a value")
        }
        pos += n
    }

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > maxDepth {
            throw JSONParseError(.nestingTooDeep, at: pos, "JSON nesting is deeper than \(maxDepth) levels")
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enter()
        pos += 1
        var object = JSONObject()
        skipWhitespace()
        if pos < buf.count, buf[pos] == UInt8(ascii: "}") {
            pos += 1
            depth -= 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard pos < buf.count, buf[pos] == UInt8(ascii: "\"") else {
                throw unexpected("a property name in double quotes")
            }
            let key = JSONString(try parseString())
            skipWhitespace()
            guard pos < buf.count, buf[pos] == UInt8(ascii: ":") else { throw unexpected("':'") }
            pos += 1
            skipWhitespace()
            let value = try parseValue()
            object[key] = value
            skipWhitespace()
            guard pos < buf.count else { throw unexpected("',' or '}'") }
            if buf[pos] == UInt8(ascii: ",") {
                pos += 1
                continue
            }
            if buf[pos] == UInt8(ascii: "}") {
                pos += 1
                depth -= 1
                return .object(object)
            }
            throw unexpected("',' or '}'")
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enter()
        pos += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if pos < buf.count, buf[pos] == UInt8(ascii: "]") {
            pos += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard pos < buf.count else { throw unexpected("',' or ']'") }
            if buf[pos] == UInt8(ascii: ",") {
                pos += 1
                continue
            }
            if buf[pos] == UInt8(ascii: "]") {
                pos += 1
                depth -= 1
                return .array(elements)
            }
            throw unexpected("',' or ']'")
        }
    }

    /// Parses a string token starting at the opening quote and returns its decoded value.
    private mutating func parseString() throws(JSONParseError) -> String {
        let open = pos
        pos += 1
        let start = pos
        // Fast path: no escapes.
        while pos < buf.count {
            let b = buf[pos]
            if b == UInt8(ascii: "\"") {
                let run = UnsafeBufferPointer(rebasing: buf[start..<pos])
                pos += 1
                return try makeString(run, at: start)
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 {
                throw JSONParseError(.controlCharacterInString, at: pos, "invalid control character in string")
            }
            pos += 1
        }
        guard pos < buf.count else {
            throw JSONParseError(.unexpectedEnd, at: open, "unterminated string")
        }
        // Slow path: copy runs and decode escapes.
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buf[start..<pos]))
        while pos < buf.count {
            let b = buf[pos]
            if b == UInt8(ascii: "\"") {
                pos += 1
                let bytes = scratch
                return try bytes.withUnsafeBufferPointer { (p) throws(JSONParseError) -> String in
                    try makeString(p, at: start)
                }
            }
            if b < 0x20 {
                throw JSONParseError(.controlCharacterInString, at: pos, "invalid control character in string")
            }
            if b != UInt8(ascii: "\\") {
                scratch.append(b)
                pos += 1
                continue
            }
            let escapeStart = pos
            pos += 1
            guard pos < buf.count else { throw JSONParseError(.unexpectedEnd, at: open, "unterminated string") }
            let e = buf[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): scratch.append(0x22)
            case UInt8(ascii: "\\"): scratch.append(0x5C)
            case UInt8(ascii: "/"): scratch.append(0x2F)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                var code = try readHex4(escapeStart)
                if code >= 0xD800 && code <= 0xDBFF {
                    // A high surrogate must be followed by an escaped low surrogate.
                    if pos + 1 < buf.count, buf[pos] == UInt8(ascii: "\\"), buf[pos + 1] == UInt8(ascii: "u") {
                        let save = pos
                        pos += 2
                        let low = try readHex4(save)
                        if low >= 0xDC00 && low <= 0xDFFF {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            throw JSONParseError(
                                .loneSurrogate,
                                at: escapeStart,
                                "lone surrogate \\u\(hex4(code)) in string"
                            )
                        }
                    } else {
                        throw JSONParseError(
                            .loneSurrogate,
                            at: escapeStart,
                            "lone surrogate \\u\(hex4(code)) in string"
                        )
                    }
                } else if code >= 0xDC00 && code <= 0xDFFF {
                    throw JSONParseError(.loneSurrogate, at: escapeStart, "lone surrogate \\u\(hex4(code)) in string")
                }
                appendUTF8(UInt32(code))
            default:
                throw JSONParseError(.invalidEscape, at: escapeStart, "invalid escape in string")
            }
        }
        throw JSONParseError(.unexpectedEnd, at: open, "unterminated string")
    }

    private func hex4(_ v: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    private mutating func readHex4(_ escapeStart: Int) throws(JSONParseError) -> Int {
        guard pos + 4 <= buf.count else {
            throw JSONParseError(.invalidEscape, at: escapeStart, "invalid \\u escape")
        }
        var v = 0
        for i in 0..<4 {
            let c = buf[pos + i]
            let d: Int
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = Int(c) - 0x30
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = Int(c) - 0x61 + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = Int(c) - 0x41 + 10
            default: throw JSONParseError(.invalidEscape, at: escapeStart, "invalid \\u escape")
            }
            v = v << 4 | d
        }
        pos += 4
        return v
    }

    private mutating func appendUTF8(_ c: UInt32) {
        switch c {
        case 0..<0x80:
            scratch.append(UInt8(c))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | (c >> 6)))
            scratch.append(UInt8(0x80 | (c & 0x3F)))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | (c >> 12)))
            scratch.append(UInt8(0x80 | ((c >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (c & 0x3F)))
        default:
            scratch.append(UInt8(0xF0 | (c >> 18)))
            scratch.append(UInt8(0x80 | ((c >> 12) & 0x3F)))
            scratch.append(UInt8(0x80 | ((c >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (c & 0x3F)))
        }
    }

    private func makeString(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) throws(JSONParseError) -> String {
        // ASCII is always valid; only validate when a high byte is present.
        var ascii = true
        for b in bytes where b >= 0x80 {
            ascii = false
            break
        }
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        guard let s = String(validating: bytes, as: UTF8.self) else {
            // Surrogates encoded directly in UTF-8 (ED A0..BF ..) are what CPython's "surrogatepass" would accept.
            if hasEncodedSurrogate(bytes) {
                throw JSONParseError(.loneSurrogate, at: offset, "lone surrogate encoded in UTF-8 string")
            }
            throw JSONParseError(.invalidUTF8, at: offset, "string is not valid UTF-8")
        }
        return s
    }

    private func hasEncodedSurrogate(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= 3 else { return false }
        for i in 0..<(bytes.count - 2) where bytes[i] == 0xED && bytes[i + 1] >= 0xA0 && bytes[i + 1] <= 0xBF {
            return true
        }
        return false
    }

    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = pos
        if buf[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < buf.count, isDigit(buf[pos]) else {
            pos = start
            throw unexpected("a value")
        }
        if buf[pos] == UInt8(ascii: "0") {
            pos += 1
        } else {
            while pos < buf.count, isDigit(buf[pos]) { pos += 1 }
        }
        var isFloat = false
        if pos + 1 < buf.count, buf[pos] == UInt8(ascii: "."), isDigit(buf[pos + 1]) {
            isFloat = true
            pos += 2
            while pos < buf.count, isDigit(buf[pos]) { pos += 1 }
        }
        if pos < buf.count, buf[pos] == UInt8(ascii: "e") || buf[pos] == UInt8(ascii: "E") {
            var q = pos + 1
            if q < buf.count, buf[q] == UInt8(ascii: "+") || buf[q] == UInt8(ascii: "-") { q += 1 }
            if q < buf.count, isDigit(buf[q]) {
                isFloat = true
                pos = q
                while pos < buf.count, isDigit(buf[pos]) { pos += 1 }
            }
        }
        let token = UnsafeBufferPointer(rebasing: buf[start..<pos])
        let text = String(decoding: token, as: UTF8.self)
        if isFloat {
            // Swift's Double(String) is correctly rounded (strtod); overflow gives ±inf, underflow ±0, as in CPython.
            guard let d = Double(text) else {
                throw JSONParseError(.unexpectedCharacter, at: start, "malformed number")
            }
            return .float(d)
        }
        let digitCount = token.count - (token[0] == UInt8(ascii: "-") ? 1 : 0)
        if digitCount > JSONParser.maxIntegerDigits {
            throw JSONParseError(
                .integerTooLong,
                at: start,
                "integer literal has \(digitCount) digits, more than the limit of \(JSONParser.maxIntegerDigits)"
            )
        }
        guard let i = JSONInteger(decimal: text) else {
            throw JSONParseError(.unexpectedCharacter, at: start, "malformed number")
        }
        return .integer(i)
    }

    @inline(__always)
    private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
}
