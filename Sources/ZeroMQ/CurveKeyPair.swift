import CZeroMQ

/// A CURVE key pair: the public key to hand out, the secret key in wiped memory.
public struct CurveKeyPair: Sendable {
    public let publicKey: CurveKey
    public let secretKey: SecretBytes

    /// Pairs keys that belong together (unchecked: use ``init(secretKey:)`` to derive the public key instead).
    init(publicKey: CurveKey, secretKey: SecretBytes) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A fresh random key pair (`zmq_curve_keypair`). Throws ``ZMQError/Code/curveUnavailable`` when this libzmq has
    /// no CURVE.
    public static func generate() throws(ZMQError) -> CurveKeyPair {
        try ZMQContext.checkCurve()
        var publicText = [CChar](repeating: 0, count: CurveKey.z85Count + 1)
        // The secret's Z85 text lives in wiped memory too, and is decoded from there into the secret key.
        let secretText = try SecretBytes(count: CurveKey.z85Count + 1) { (buffer) throws(ZMQError) in
            let rc = zmq_curve_keypair(&publicText, buffer.baseAddress!.assumingMemoryBound(to: CChar.self))
            if rc != 0 { throw ZMQError.last("zmq_curve_keypair") }
        }
        let secret = try decodeSecret(secretText)
        let publicKey = try CurveKey(z85: String(zeroTerminated: publicText))
        return CurveKeyPair(publicKey: publicKey, secretKey: secret)
    }

    /// The pair for an existing 32-byte secret key, deriving its public key (`zmq_curve_public`).
    public init(secretKey: SecretBytes) throws(ZMQError) {
        guard secretKey.count == CurveKey.byteCount else {
            throw ZMQError(
                .invalidKey,
                operation: "CurveKeyPair",
                message: "a CURVE secret key has 32 bytes, got \(secretKey.count)"
            )
        }
        try ZMQContext.checkCurve()
        let secretText = CurveKeyPair.encodeSecret(secretKey)
        var publicText = [CChar](repeating: 0, count: CurveKey.z85Count + 1)
        let rc = secretText.withUnsafeBytes {
            zmq_curve_public(&publicText, $0.baseAddress!.assumingMemoryBound(to: CChar.self))
        }
        if rc != 0 { throw ZMQError.last("zmq_curve_public") }
        self.publicKey = try CurveKey(z85: String(zeroTerminated: publicText))
        self.secretKey = secretKey
    }

    /// The pair for a secret key given as 40 Z85 characters (as read from a certificate).
    public init(secretKeyZ85: String) throws(ZMQError) {
        try self.init(secretKey: CurveKeyPair.decodeSecret(z85: secretKeyZ85))
    }

    /// Decodes a NUL-terminated (or exactly 40-character) Z85 secret held in wiped memory into a 32-byte secret.
    static func decodeSecret(_ text: SecretBytes) throws(ZMQError) -> SecretBytes {
        try SecretBytes(count: CurveKey.byteCount) { (target) throws(ZMQError) in
            let valid = text.withUnsafeBytes { source in
                Z85.decode(UnsafeRawBufferPointer(rebasing: source[0..<CurveKey.z85Count]), into: target)
            }
            if !valid {
                throw ZMQError(.invalidKey, operation: "CurveKeyPair", message: "the secret key is not valid Z85")
            }
        }
    }

    /// Decodes a secret key from its Z85 text.
    static func decodeSecret(z85 text: String) throws(ZMQError) -> SecretBytes {
        var text = text
        let result = text.withUTF8 { source in
            Result { () throws(ZMQError) -> SecretBytes in
                guard source.count == CurveKey.z85Count else {
                    throw ZMQError(
                        .invalidKey,
                        operation: "CurveKeyPair",
                        message: "a CURVE secret key is 40 Z85 characters"
                    )
                }
                return try SecretBytes(count: CurveKey.byteCount) { (target) throws(ZMQError) in
                    if !Z85.decode(UnsafeRawBufferPointer(source), into: target) {
                        throw ZMQError(
                            .invalidKey,
                            operation: "CurveKeyPair",
                            message: "the secret key is not valid Z85"
                        )
                    }
                }
            }
        }
        return try result.get()
    }

    /// The Z85 text of a 32-byte secret, NUL-terminated, in wiped memory.
    static func encodeSecret(_ secret: SecretBytes) -> SecretBytes {
        SecretBytes(count: CurveKey.z85Count + 1) { target in
            secret.withUnsafeBytes { source in
                Z85.encode(source, into: UnsafeMutableRawBufferPointer(rebasing: target[0..<CurveKey.z85Count]))
            }
        }
    }

    /// The secret key's Z85 text (for writing a certificate; the returned string is ordinary memory).
    public var secretKeyZ85: String {
        let text = CurveKeyPair.encodeSecret(secretKey)
        return text.withUnsafeBytes { String(decoding: $0[0..<CurveKey.z85Count], as: UTF8.self) }
    }
}

extension String {
    /// The text of a NUL-terminated C buffer (everything before the first NUL).
    init(zeroTerminated buffer: [CChar]) {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self = String(decoding: bytes, as: UTF8.self)
    }
}
