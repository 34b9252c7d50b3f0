/// The fast path for the canonical form: `json.dumps(v, sort_keys=True, separators=(",", ":"))` with a key filter,
/// written straight into a growable raw buffer.
///
/// This is what every apply and every heartbeat comparison hashes, so it avoids per-object allocations (member order
/// is sorted in stack memory), compares keys with `memcmp`, and copies runs of plain ASCII in bulk.
/// `PythonJSONEncoder.canonical` produces the same bytes; a test checks both agree on random documents.
public struct CanonicalWriter {
    /// Calls `body` with the canonical bytes of `value`, leaving out members whose key `dropKey` accepts.
    public static func withCanonicalBytes<R>(
        _ value: JSONValue,
        dropKey: (JSONString) -> Bool,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        let out = OutputBuffer(capacity: 16 * 1024)
        write(value, out, dropKey)
        return try body(UnsafeRawBufferPointer(start: out.base, count: out.count))
    }

    public static func canonicalBytes(_ value: JSONValue, dropKey: (JSONString) -> Bool) -> [UInt8] {
        withCanonicalBytes(value, dropKey: dropKey) { Array($0) }
    }

    private static func write(_ value: JSONValue, _ out: OutputBuffer, _ dropKey: (JSONString) -> Bool) {
        switch value {
        case .null: out.append("null")
        case .bool(let b): out.append(b ? "true" : "false")
        case .integer(let i):
            if let v = i.int64Value { out.appendInteger(v) } else { out.append(i.description) }
        case .float(let d): out.append(PythonFloat.repr(d))
        case .string(let s): writeString(s.value, out)
        case .array(let a):
            out.append(byte: UInt8(ascii: "["))
            var first = true
            for e in a {
                if !first { out.append(byte: UInt8(ascii: ",")) }
                first = false
                write(e, out, dropKey)
            }
            out.append(byte: UInt8(ascii: "]"))
        case .object(let o):
            writeObject(o, out, dropKey)
        }
    }

    private static func writeObject(_ o: JSONObject, _ out: OutputBuffer, _ dropKey: (JSONString) -> Bool) {
        let members = o.members
        out.append(byte: UInt8(ascii: "{"))
        withUnsafeTemporaryAllocation(of: Int.self, capacity: members.count) { order in
            var n = 0
            for i in members.indices where !dropKey(members[i].key) {
                // Insertion sort by key bytes: objects are small, and this allocates nothing.
                var j = n
                while j > 0 && keyLess(members[i].key.value, members[order[j - 1]].key.value) {
                    order[j] = order[j - 1]
                    j -= 1
                }
                order[j] = i
                n += 1
                if n > 32 { break }
            }
            if n > 32 {
                // Large object: fall back to a proper sort.
                var idx = members.indices.filter { !dropKey(members[$0].key) }
                idx.sort { keyLess(members[$0].key.value, members[$1].key.value) }
                writeMembers(idx, members, out, dropKey)
            } else {
                writeMembers(UnsafeBufferPointer(rebasing: order[0..<n]), members, out, dropKey)
            }
        }
        out.append(byte: UInt8(ascii: "}"))
    }

    private static func writeMembers<C: Collection<Int>>(
        _ order: C,
        _ members: [JSONObject.Member],
        _ out: OutputBuffer,
        _ dropKey: (JSONString) -> Bool
    ) {
        var first = true
        for i in order {
            if !first { out.append(byte: UInt8(ascii: ",")) }
            first = false
            writeString(members[i].key.value, out)
            out.append(byte: UInt8(ascii: ":"))
            write(members[i].value, out, dropKey)
        }
    }

    /// Code-point order of two strings through their UTF-8 bytes.
    @inline(__always)
    static func keyLess(_ a: String, _ b: String) -> Bool {
        let r = a.utf8.withContiguousStorageIfAvailable { pa in
            b.utf8.withContiguousStorageIfAvailable { pb -> Bool in
                let n = min(pa.count, pb.count)
                let c = n == 0 ? 0 : memcmpBytes(pa.baseAddress!, pb.baseAddress!, n)
                return c != 0 ? c < 0 : pa.count < pb.count
            }
        }
        if let r, let r { return r }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    @inline(__always)
    private static func memcmpBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Int {
        for i in 0..<n where a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
        return 0
    }

    private static func writeString(_ s: String, _ out: OutputBuffer) {
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { writeStringBytes($0, out) }
        if done == nil {
            var copy = s
            copy.withUTF8 { writeStringBytes($0, out) }
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private static func writeStringBytes(_ bytes: UnsafeBufferPointer<UInt8>, _ out: OutputBuffer) {
        out.append(byte: UInt8(ascii: "\""))
        var i = 0
        let n = bytes.count
        var runStart = 0
        while i < n {
            let b = bytes[i]
            if b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") {
                i += 1
                continue
            }
            if runStart < i { out.append(UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
            if b < 0x80 {
                switch b {
                case UInt8(ascii: "\""): out.append("\\\"")
                case UInt8(ascii: "\\"): out.append("\\\\")
                case 0x08: out.append("\\b")
                case 0x0C: out.append("\\f")
                case 0x0A: out.append("\\n")
                case 0x0D: out.append("\\r")
                case 0x09: out.append("\\t")
                default: appendEscape(UInt32(b), out)
                }
                i += 1
            } else {
                let (scalar, length) = UTF8Scalar.decode(bytes, at: i)
                UTF8Scalar.utf16Units(scalar) { appendEscape($0, out) }
                i += length
            }
            runStart = i
        }
        if runStart < n { out.append(UnsafeBufferPointer(rebasing: bytes[runStart..<n])) }
        out.append(byte: UInt8(ascii: "\""))
    }

    @inline(__always)
    private static func appendEscape(_ unit: UInt32, _ out: OutputBuffer) {
        out.reserve(6)
        let p = out.base + out.count
        p[0] = UInt8(ascii: "\\")
        p[1] = UInt8(ascii: "u")
        p[2] = hex[Int((unit >> 12) & 0xF)]
        p[3] = hex[Int((unit >> 8) & 0xF)]
        p[4] = hex[Int((unit >> 4) & 0xF)]
        p[5] = hex[Int(unit & 0xF)]
        out.count += 6
    }
}

/// A growable byte buffer in raw memory, owned by one writer for the duration of one encode.
final class OutputBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    @inline(__always)
    func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    private func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    func append(byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always)
    func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        reserve(bytes.count)
        (base + count).update(from: bytes.baseAddress!, count: bytes.count)
        count += bytes.count
    }

    @inline(__always)
    func append(_ s: StaticString) {
        append(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    func append(_ s: String) {
        var copy = s
        copy.withUTF8 { append($0) }
    }

    func appendInteger(_ v: Int64) {
        reserve(20)
        if v == 0 {
            base[count] = UInt8(ascii: "0")
            count += 1
            return
        }
        var magnitude = v.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch for up to 20 digits
        let n = withUnsafeMutableBytes(of: &digits) { scratch -> Int in
            var k = 0
            while magnitude > 0 {
                scratch[k] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                k += 1
            }
            if v < 0 {
                base[count] = UInt8(ascii: "-")
                count += 1
            }
            for j in 0..<k { base[count + j] = scratch[k - 1 - j] }
            return k
        }
        count += n
    }
}
