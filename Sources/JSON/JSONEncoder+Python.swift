/// Serialises `JSONValue`s the way CPython's `json.dumps` does.
///
/// With `sortKeys`, `asciiOnly` and compact separators this is exactly
/// `json.dumps(v, sort_keys=True, separators=(",", ":"))`, the canonical form DECNET hashes. Without `asciiOnly`,
/// non-ASCII is written as raw UTF-8 (`ensure_ascii=False`), which is what the wire and the CLI use.
public struct PythonJSONEncoder: Sendable {
    public var sortKeys: Bool
    public var asciiOnly: Bool
    /// Spaces per level for pretty output; `nil` for compact.
    public var indent: Int?

    public init(sortKeys: Bool = false, asciiOnly: Bool = false, indent: Int? = nil) {
        self.sortKeys = sortKeys
        self.asciiOnly = asciiOnly
        self.indent = indent
    }

    /// The canonical form: sorted keys, compact, ASCII only.
    public static let canonical = PythonJSONEncoder(sortKeys: true, asciiOnly: true)

    public func encode(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out, level: 0, dropKey: nil)
        return out
    }

    /// Encodes, leaving out every object member whose key `dropKey` returns true for, at any depth.
    public func encode(_ value: JSONValue, dropKey: (JSONString) -> Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        withoutActuallyEscaping(dropKey) { drop in
            write(value, into: &out, level: 0, dropKey: drop)
        }
        return out
    }

    public func string(_ value: JSONValue) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    func write(_ value: JSONValue, into out: inout [UInt8], level: Int, dropKey: ((JSONString) -> Bool)?) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let b):
            if b {
                out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
            } else {
                out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
            }
        case .integer(let i): out.append(contentsOf: i.description.utf8)
        case .float(let d): out.append(contentsOf: PythonFloat.repr(d).utf8)
        case .string(let s): writeString(s.value, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            if a.isEmpty {
                out.append(UInt8(ascii: "]"))
                return
            }
            for (i, e) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, level + 1)
                write(e, into: &out, level: level + 1, dropKey: dropKey)
            }
            newline(&out, level)
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var members = o.members
            if let dropKey { members.removeAll { dropKey($0.key) } }
            if members.isEmpty {
                out.append(UInt8(ascii: "}"))
                return
            }
            if sortKeys { members.sort { $0.key < $1.key } }
            for (i, m) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, level + 1)
                writeString(m.key.value, into: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(0x20) }
                write(m.value, into: &out, level: level + 1, dropKey: dropKey)
            }
            newline(&out, level)
            out.append(UInt8(ascii: "}"))
        }
    }

    @inline(__always)
    private func newline(_ out: inout [UInt8], _ level: Int) {
        guard let indent else { return }
        out.append(0x0A)
        out.append(contentsOf: repeatElement(0x20, count: indent * level))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    @inline(__always)
    private func appendU(_ unit: UInt32, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        out.append(UInt8(ascii: "u"))
        out.append(Self.hexDigits[Int((unit >> 12) & 0xF)])
        out.append(Self.hexDigits[Int((unit >> 8) & 0xF)])
        out.append(Self.hexDigits[Int((unit >> 4) & 0xF)])
        out.append(Self.hexDigits[Int(unit & 0xF)])
    }

    func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var copy = s
        copy.withUTF8 { bytes in
            var i = 0
            let n = bytes.count
            while i < n {
                let b = bytes[i]
                if b >= 0x20 && b < 0x7F {
                    if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                    out.append(b)
                    i += 1
                    continue
                }
                if b < 0x80 {
                    switch b {
                    case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
                    case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
                    case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                    case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                    case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                    default: appendU(UInt32(b), &out)  // other controls and DEL
                    }
                    i += 1
                    continue
                }
                // Multi-byte UTF-8 sequence (the String is valid UTF-8).
                let (scalar, length) = UTF8Scalar.decode(bytes, at: i)
                if asciiOnly {
                    UTF8Scalar.utf16Units(scalar) { appendU($0, &out) }
                } else {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[i..<(i + length)]))
                }
                i += length
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension JSONValue {
    /// Compact JSON text with raw UTF-8 and members in their own order.
    public var jsonText: String { PythonJSONEncoder().string(self) }
}
