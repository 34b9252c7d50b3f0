import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The master public keys an agent trusts (docs/security.md#master-key-rollover): `--master-key` names one public
/// certificate, or a folder whose `*.key` certificates are all trusted (in name order), so that a master key can
/// roll over with an overlap. The folder is read again whenever the agent moves on to its next key, so a key added
/// there is tried without a restart.
public struct TrustedMasterKeys: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The trusted keys, in the order they are tried; throws when none can be read (a folder without a `.key`
    /// file, or a certificate that does not parse).
    public func load() throws(ZMQError) -> [CurveKey] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ZMQError(.io, operation: "master key \(path)", message: "no such file or folder")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return [try ZMQCertificate.load(path: path).publicKey] }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
            .filter { $0.hasSuffix(ZMQCertificate.publicSuffix) && !$0.hasPrefix(".") }.sorted()
        var keys: [CurveKey] = []
        for name in names {
            let key = try ZMQCertificate.load(path: path.hasSuffix("/") ? path + name : path + "/" + name).publicKey
            if !keys.contains(key) { keys.append(key) }
        }
        guard !keys.isEmpty else {
            throw ZMQError(.io, operation: "master key \(path)", message: "the folder holds no .key certificate")
        }
        return keys
    }
}
