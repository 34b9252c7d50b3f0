import CSodium

/// A one-time enrolment token (docs/security.md#enrolment-tokens): 32 random bytes, written
/// `decnet-enrol-v1.<base64url>`. Master and agent derive the same CURVE key pair from it, so an agent proves it holds
/// the token by completing a CURVE handshake with that pair; the token itself never travels.
public struct EnrolmentToken: Sendable, Equatable {
    /// The text before the `.`; also the derivation's domain separator.
    public static let prefix = "decnet-enrol-v1"
    public static let byteCount = 32

    /// The token's bytes, in wiped memory.
    public let secret: SecretBytes

    /// A fresh token from libsodium's `randombytes_buf`.
    public static func generate() -> EnrolmentToken {
        _ = sodium_init()
        let secret = SecretBytes(count: byteCount) { randombytes_buf($0.baseAddress!, $0.count) }
        return EnrolmentToken(secret: secret)
    }

    private init(secret: SecretBytes) {
        self.secret = secret
    }

    /// Parses `decnet-enrol-v1.<43 base64url characters, no padding>` (surrounding white space ignored); throws
    /// ``ZMQError/Code/invalidArgument`` with a message that never repeats the text (it may be a mistyped secret).
    public init(text: String) throws(ZMQError) {
        let trimmed = text.trimmingWhiteSpace
        let head = Self.prefix + "."
        guard trimmed.hasPrefix(head) else {
            throw ZMQError(.invalidArgument, operation: "enrolment token", message: "it does not start with \(head)")
        }
        guard let bytes = Base64URL.decode(String(trimmed.dropFirst(head.count))), bytes.count == Self.byteCount
        else {
            throw ZMQError(
                .invalidArgument,
                operation: "enrolment token",
                message: "it is not \(Self.byteCount) bytes of unpadded base64url after \(head)"
            )
        }
        self.secret = SecretBytes(copying: bytes)
    }

    /// The token as the operator copies it.
    public var text: String {
        Self.prefix + "." + secret.withUnsafeBytes { Base64URL.encode(Array($0)) }
    }

    /// The CURVE key pair both sides derive: `crypto_box_seed_keypair(SHA-256("decnet-enrol-v1" || token))`.
    public func keyPair() -> CurveKeyPair {
        _ = sodium_init()
        var seed = [UInt8](repeating: 0, count: Int(crypto_box_SEEDBYTES))
        secret.withUnsafeBytes { token in
            let input = Array(Self.prefix.utf8) + Array(token)
            _ = crypto_hash_sha256(&seed, input, UInt64(input.count))
        }
        var publicBytes = [UInt8](repeating: 0, count: Int(crypto_box_PUBLICKEYBYTES))
        let secretKey = SecretBytes(count: Int(crypto_box_SECRETKEYBYTES)) { buffer in
            _ = crypto_box_seed_keypair(&publicBytes, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), seed)
        }
        sodium_memzero(&seed, seed.count)
        // crypto_box keys are the CURVE keys libzmq uses (X25519), 32 bytes each.
        let publicKey = try! CurveKey(bytes: publicBytes)
        return CurveKeyPair(publicKey: publicKey, secretKey: secretKey)
    }

    public static func == (lhs: EnrolmentToken, rhs: EnrolmentToken) -> Bool { lhs.secret == rhs.secret }
}

/// The agent's proof that it holds the secret key of the public key it asks to enrol
/// (docs/wire-protocol.md#enrol): `crypto_box_easy` from the agent's secret key to the master's public key over
/// `"decnet-enrol-v1 proof" || token public key || agent id`, with a fresh 24-byte nonce. The master opens it with the
/// claimed public key; a box made with any other secret key does not open.
public enum EnrolmentProof {
    public static let nonceCount = Int(crypto_box_NONCEBYTES)

    static func message(tokenKey: CurveKey, agentID: String) -> [UInt8] {
        Array("decnet-enrol-v1 proof".utf8) + tokenKey.bytes + Array(agentID.utf8)
    }

    /// Seals the proof; returns the nonce and the box.
    public static func seal(
        agent: CurveKeyPair,
        masterKey: CurveKey,
        tokenKey: CurveKey,
        agentID: String
    ) -> (nonce: [UInt8], box: [UInt8]) {
        _ = sodium_init()
        var nonce = [UInt8](repeating: 0, count: nonceCount)
        randombytes_buf(&nonce, nonce.count)
        let plain = message(tokenKey: tokenKey, agentID: agentID)
        var box = [UInt8](repeating: 0, count: plain.count + Int(crypto_box_MACBYTES))
        agent.secretKey.withUnsafeBytes { secret in
            _ = crypto_box_easy(
                &box,
                plain,
                UInt64(plain.count),
                nonce,
                masterKey.bytes,
                secret.baseAddress!.assumingMemoryBound(to: UInt8.self)
            )
        }
        return (nonce, box)
    }

    /// Whether `box` opens with the claimed agent key and the master's secret key, and says exactly this token and id.
    public static func verify(
        nonce: [UInt8],
        box: [UInt8],
        agentKey: CurveKey,
        master: CurveKeyPair,
        tokenKey: CurveKey,
        agentID: String
    ) -> Bool {
        _ = sodium_init()
        let expected = message(tokenKey: tokenKey, agentID: agentID)
        guard nonce.count == nonceCount, box.count == expected.count + Int(crypto_box_MACBYTES) else { return false }
        var plain = [UInt8](repeating: 0, count: expected.count)
        let opened = master.secretKey.withUnsafeBytes { secret in
            crypto_box_open_easy(
                &plain,
                box,
                UInt64(box.count),
                nonce,
                agentKey.bytes,
                secret.baseAddress!.assumingMemoryBound(to: UInt8.self)
            )
        }
        return opened == 0 && sodium_memcmp(plain, expected, expected.count) == 0
    }
}

/// Unpadded base64url (RFC 4648 §5), strict: other characters, padding or stray bits are refused.
public enum Base64URL {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            for position in 0...chunk.count {
                out.append(alphabet[Int((value >> (18 - 6 * UInt32(position))) & 63)])
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt32] = []
        for byte in text.utf8 {
            guard let value = alphabet.firstIndex(of: byte) else { return nil }
            values.append(UInt32(value))
        }
        guard values.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        var index = 0
        while index < values.count {
            let group = Array(values[index..<min(index + 4, values.count)])
            let value = group.enumerated().reduce(UInt32(0)) { $0 | $1.element << (18 - 6 * UInt32($1.offset)) }
            let count = group.count - 1
            for position in 0..<count { out.append(UInt8((value >> (16 - 8 * UInt32(position))) & 0xFF)) }
            // The bits below the last whole byte must be zero (one encoding per value).
            let used = 8 * count
            let mask: UInt32 = used >= 24 ? 0 : (UInt32(1) << (24 - used)) - 1
            guard value & mask == 0 else { return nil }
            index += 4
        }
        return out
    }
}

extension String {
    fileprivate var trimmingWhiteSpace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        return String(self.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
