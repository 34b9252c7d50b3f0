import Foundation
import ZeroMQ

/// The master key's rollover (docs/security.md#master-key-rollover, docs/operations.md#rotate): make the next key
/// beside the current one, hand its public half to every agent (which then trusts both), promote it, restart the
/// master; agents that pinned the old key move on to the next trusted one after one failed handshake.
///
/// ```
/// DIR/master.key_secret          the key the master serves with
/// DIR/master.next.key_secret     made by `keygen --rotate`, promoted by `keygen --promote`
/// DIR/master.previous.key_secret the key promote replaced (kept until the operator removes it)
/// ```
public enum MasterKeyRollover {
    static let current = "master"
    static let next = "master.next"
    static let previous = "master.previous"

    /// Makes `master.next.key_secret` and `master.next.key`; refuses when a next key exists already.
    @discardableResult
    public static func prepareNext(directory: String) throws(MasterError) -> ZMQCertificate {
        try KeyGenerator.generate(directory: directory, name: next, role: .master)
    }

    /// Makes the next key the current one: the current pair becomes `master.previous.*`, then `master.next.*`
    /// becomes `master.*`. Each step is a `rename`, so a crash between them leaves either the old state or no
    /// current key and a next one, and running promote again finishes. Returns the promoted certificate.
    @discardableResult
    public static func promote(directory: String) throws(MasterError) -> ZMQCertificate {
        let folder = MasterDirectory(directory)
        let nextSecret = folder.file(next + ZMQCertificate.secretSuffix)
        guard FileManager.default.fileExists(atPath: nextSecret) else {
            throw MasterError(
                .keys,
                operation: "keygen --promote",
                message:
                    "no next key \(nextSecret); make it first with: decnet-master keygen --rotate --dir \(directory)"
            )
        }
        let promoted: ZMQCertificate
        do {
            promoted = try ZMQCertificate.loadSecret(directory: folder.path, name: next)
        } catch {
            throw MasterError(.keys, operation: "keygen --promote", message: error.message)
        }
        guard promoted.role == nil || promoted.role == KeyRole.master.rawValue, promoted.keyPair != nil else {
            throw MasterError(.keys, operation: "keygen --promote", message: "\(nextSecret) is not a master key pair")
        }
        for suffix in [ZMQCertificate.secretSuffix, ZMQCertificate.publicSuffix] {
            let from = folder.file(current + suffix)
            if FileManager.default.fileExists(atPath: from) {
                try move(from, folder.file(previous + suffix))
            }
        }
        for suffix in [ZMQCertificate.secretSuffix, ZMQCertificate.publicSuffix] {
            let from = folder.file(next + suffix)
            if FileManager.default.fileExists(atPath: from) {
                try move(from, folder.file(current + suffix))
            }
        }
        return promoted
    }

    private static func move(_ from: String, _ to: String) throws(MasterError) {
        guard rename(from, to) == 0 else {
            let number = errno
            throw MasterError(
                .io,
                operation: "rename \(from) to \(to)",
                message: String(cString: strerror(number))
            )
        }
    }
}
