/// A CURVE public key: 32 bytes, written as 40 Z85 characters in certificates and logs.
public struct CurveKey: Sendable, Hashable, CustomStringConvertible {
    /// The 32 key bytes.
    public let bytes: [UInt8]

    /// The length of a CURVE key in bytes.
    public static let byteCount = 32
    /// The length of a CURVE key in Z85 characters.
    public static let z85Count = 40

    /// A key from its 32 bytes; throws ``ZMQError/Code/invalidKey`` for any other length.
    public init(bytes: [UInt8]) throws(ZMQError) {
        guard bytes.count == CurveKey.byteCount else {
            throw ZMQError(.invalidKey, operation: "CurveKey", message: "a CURVE key has 32 bytes, got \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// A key from its 40-character Z85 text; throws ``ZMQError/Code/invalidKey`` when it is not valid Z85 of that
    /// length.
    public init(z85: String) throws(ZMQError) {
        guard z85.utf8.count == CurveKey.z85Count, let bytes = Z85.decode(z85) else {
            throw ZMQError(
                .invalidKey,
                operation: "CurveKey",
                message: "a CURVE key is 40 Z85 characters, got \(z85.utf8.count) characters or invalid text"
            )
        }
        self.bytes = bytes
    }

    /// The Z85 text (40 characters).
    public var z85: String { Z85.encode(bytes) }

    public var description: String { z85 }
}
