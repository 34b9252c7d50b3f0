/// Decoding of one scalar from valid UTF-8, and its JSON `\uXXXX` form, shared by both JSON writers.
enum UTF8Scalar {
    /// The scalar starting at `i` (a lead byte ≥ 0x80 of valid UTF-8) and the number of bytes it takes.
    @inline(__always)
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> (scalar: UInt32, length: Int) {
        let b = bytes[i]
        let length = b < 0xE0 ? 2 : (b < 0xF0 ? 3 : 4)
        var scalar = UInt32(b & (length == 2 ? 0x1F : (length == 3 ? 0x0F : 0x07)))
        for k in 1..<length { scalar = scalar << 6 | UInt32(bytes[i + k] & 0x3F) }
        return (scalar, length)
    }

    /// Calls `emit` with the UTF-16 code units of `scalar`: one, or a surrogate pair above U+FFFF.
    @inline(__always)
    static func utf16Units(_ scalar: UInt32, _ emit: (UInt32) -> Void) {
        if scalar >= 0x10000 {
            let v = scalar - 0x10000
            emit(0xD800 + (v >> 10))
            emit(0xDC00 + (v & 0x3FF))
        } else {
            emit(scalar)
        }
    }
}
