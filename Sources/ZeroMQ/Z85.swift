/// Z85, ZeroMQ's text encoding of binary keys (RFC 32): every 4 bytes become 5 printable characters, so a 32-byte
/// CURVE key is 40 characters. The alphabet includes `#`, `=` and `.`, which is why certificate values are quoted.
///
/// Written here (not `zmq_z85_encode`/`zmq_z85_decode`) so that secrets can be decoded straight into zeroed memory;
/// the tests check it against libzmq's functions.
public enum Z85 {
    static let alphabet: [UInt8] = Array(
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8
    )

    /// Character value + 1 for each ASCII byte, 0 for bytes outside the alphabet.
    static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = UInt8(index + 1) }
        return table
    }()

    /// Encodes `bytes`, whose count must be a multiple of 4 (a programmer error otherwise).
    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { source in
            String(unsafeUninitializedCapacity: source.count / 4 * 5) { target in
                encode(source, into: UnsafeMutableRawBufferPointer(target))
                return source.count / 4 * 5
            }
        }
    }

    /// Decodes Z85 `text`; `nil` when its length is not a multiple of 5, a character is outside the alphabet, or a
    /// group overflows 32 bits.
    public static func decode(_ text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count % 5 == 0 else { return nil }
        var output = [UInt8](repeating: 0, count: characters.count / 5 * 4)
        let valid = characters.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { decode(source, into: $0) }
        }
        return valid ? output : nil
    }

    /// Encodes `source` (count a multiple of 4) into `target` (exactly `source.count / 4 * 5` bytes).
    static func encode(_ source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) {
        precondition(source.count % 4 == 0, "Z85 encodes multiples of 4 bytes, got \(source.count)")
        precondition(target.count == source.count / 4 * 5, "Z85 target buffer has the wrong size")
        var out = 0
        var index = 0
        while index < source.count {
            var value = UInt32(source[index]) << 24 | UInt32(source[index + 1]) << 16
            value |= UInt32(source[index + 2]) << 8 | UInt32(source[index + 3])
            for position in stride(from: 4, through: 0, by: -1) {
                target[out + position] = alphabet[Int(value % 85)]
                value /= 85
            }
            out += 5
            index += 4
        }
    }

    /// Decodes `source` (count a multiple of 5) into `target` (exactly `source.count / 5 * 4` bytes); false when
    /// the text is not valid Z85 (the target then holds garbage and must be discarded or zeroed).
    static func decode(_ source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) -> Bool {
        guard source.count % 5 == 0, target.count == source.count / 5 * 4 else { return false }
        var out = 0
        var index = 0
        while index < source.count {
            var value: UInt64 = 0
            for offset in 0..<5 {
                let digit = decodeTable[Int(source[index + offset])]
                guard digit != 0 else { return false }
                value = value * 85 + UInt64(digit - 1)
            }
            guard value <= UInt64(UInt32.max) else { return false }
            target[out] = UInt8(truncatingIfNeeded: value >> 24)
            target[out + 1] = UInt8(truncatingIfNeeded: value >> 16)
            target[out + 2] = UInt8(truncatingIfNeeded: value >> 8)
            target[out + 3] = UInt8(truncatingIfNeeded: value)
            out += 4
            index += 5
        }
        return true
    }
}
