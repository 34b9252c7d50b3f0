import CSodium

/// The fingerprint of a public key, as operators compare it between an agent and `decnet-master keys list`
/// (docs/security.md#fingerprint): the SHA-256 of the 32 key bytes, written as 64 lowercase hex digits.
extension CurveKey {
    /// 64 lowercase hex digits of SHA-256 over ``bytes``.
    public var fingerprint: String {
        precondition(sodium_init() >= 0, "libsodium failed to initialise")
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        _ = crypto_hash_sha256(&digest, bytes, UInt64(bytes.count))
        return CurveKey.hex(digest)
    }

    /// The first 16 hex digits of ``fingerprint``, for tables.
    public var shortFingerprint: String { String(fingerprint.prefix(CurveKey.shortFingerprintLength)) }

    /// Hex digits shown in tables, and the least an operator must type to name a key by fingerprint is 8.
    public static let shortFingerprintLength = 16
    public static let minimumFingerprintPrefix = 8

    /// `text` as a fingerprint or a prefix of one, lowercased with `:` and spaces removed; `nil` unless it is 8 to 64
    /// hex digits.
    public static func fingerprintPrefix(_ text: String) -> String? {
        let cleaned = text.lowercased().filter { $0 != ":" && $0 != " " }
        guard (minimumFingerprintPrefix...64).contains(cleaned.count),
            cleaned.allSatisfy({ $0.isHexDigit })
        else { return nil }
        return cleaned
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
