/// A CURVE certificate in the ZPL text format that czmq (`zcert`) and pyzmq (`zmq.auth`) read and write: a public
/// key, optionally its secret key, and metadata naming the holder (`agent-id`, `role`).
///
/// On disk a certificate is two files: `NAME.key` (public key and metadata, mode 0644) and `NAME.key_secret` (both
/// keys and metadata, mode 0600 from the moment it is created). Loading tolerates what pyzmq writes: an empty or
/// missing metadata section, unquoted metadata values, comment banners.
public struct ZMQCertificate: Sendable {
    /// The public key (`curve/public-key`).
    public var publicKey: CurveKey
    /// The secret key (`curve/secret-key`), present when loaded from a `.key_secret` file or generated.
    public var secretKey: SecretBytes?
    /// The `metadata` section, e.g. `agent-id` and `role`; written in name order.
    public var metadata: [String: String]

    /// The file name suffix of a public certificate.
    public static let publicSuffix = ".key"
    /// The file name suffix of a secret certificate.
    public static let secretSuffix = ".key_secret"

    /// A public-only certificate.
    public init(publicKey: CurveKey, metadata: [String: String] = [:]) {
        self.publicKey = publicKey
        self.secretKey = nil
        self.metadata = metadata
    }

    /// A certificate holding both keys of `keyPair`.
    public init(keyPair: CurveKeyPair, metadata: [String: String] = [:]) {
        self.publicKey = keyPair.publicKey
        self.secretKey = keyPair.secretKey
        self.metadata = metadata
    }

    /// A new certificate with a freshly generated key pair.
    public static func generate(metadata: [String: String] = [:]) throws(ZMQError) -> ZMQCertificate {
        ZMQCertificate(keyPair: try CurveKeyPair.generate(), metadata: metadata)
    }

    /// The `agent-id` metadata value.
    public var agentID: String? { metadata["agent-id"] }
    /// The `role` metadata value (`agent`, `monitor` or `master`).
    public var role: String? { metadata["role"] }

    /// Both keys, when the secret key is present.
    public var keyPair: CurveKeyPair? {
        secretKey.map { CurveKeyPair(publicKey: publicKey, secretKey: $0) }
    }

    /// Reads one certificate file (public or secret). A secret file whose public key does not belong to its secret
    /// key is refused with ``ZMQError/Code/invalidCertificate``.
    public static func load(path: String) throws(ZMQError) -> ZMQCertificate {
        let bytes = try CertificateFiles.read(path: path)
        return try parse(String(decoding: bytes, as: UTF8.self), origin: path)
    }

    /// Reads `directory/NAME.key_secret`: the key pair and metadata of the holder of `name`.
    public static func loadSecret(directory: String, name: String) throws(ZMQError) -> ZMQCertificate {
        let certificate = try load(path: CertificateFiles.join(directory, name + secretSuffix))
        guard certificate.secretKey != nil else {
            throw ZMQError(
                .invalidCertificate,
                operation: "load \(name + secretSuffix)",
                message: "the secret certificate has no secret-key"
            )
        }
        return certificate
    }

    /// Writes `directory/NAME.key` (mode 0644) and, when the secret key is present, `directory/NAME.key_secret`
    /// (created with mode 0600). Each file is written to a temporary name and renamed into place, so readers never
    /// see half a file. Existing files are replaced only when `overwrite` is true.
    public func write(directory: String, name: String, overwrite: Bool = false) throws(ZMQError) {
        let publicPath = CertificateFiles.join(directory, name + ZMQCertificate.publicSuffix)
        let secretPath = CertificateFiles.join(directory, name + ZMQCertificate.secretSuffix)
        if !overwrite {
            for path in [publicPath, secretPath] where CertificateFiles.exists(path) {
                throw ZMQError(.io, operation: "write \(path)", message: "the file exists; refusing to replace it")
            }
        }
        if secretKey != nil {
            try CertificateFiles.write(path: secretPath, text: try render(includeSecret: true), mode: 0o600)
        }
        try CertificateFiles.write(path: publicPath, text: try render(includeSecret: false), mode: 0o644)
    }
}
