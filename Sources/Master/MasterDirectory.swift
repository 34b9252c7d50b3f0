import Foundation
import SystemFiles
import ZeroMQ

/// The layout of a master's directory:
///
/// ```
/// DIR/master.key_secret   the master's CURVE key pair (mode 0600; `keygen --role master --name master`)
/// DIR/agents/*.key        allow-list: agents' public keys; the file name is the agent id (docs/wire-protocol.md#identity)
/// DIR/monitors/*.key      allow-list: public keys of monitors, admitted only on the monitor socket
/// DIR/rejected/*.key      keys the operator rejected: refused quietly (docs/security.md#enrolment)
/// DIR/tokens/*.json       enrolment tokens' public keys, expiry and uses (docs/security.md#enrolment-tokens)
/// RUN/pending/*.json      keys refused at the handshake, waiting for the operator (written by the server)
/// DIR/control.ipc         the operator control channel while a master serves (owner only)
/// DIR/master.lock         held (flock) by the serving master, so two masters never share a directory
/// ```
///
/// `control.ipc` and `master.lock` may live in a run directory of their own (`serve --run-dir`), so that the keys'
/// directory can stay read-only.
public struct MasterDirectory: Sendable {
    public let path: String
    /// Where `control.ipc` and `master.lock` are: ``path`` unless given.
    public let runPath: String

    /// A relative `path` is taken from the current directory (the control socket's `ipc://` endpoint must not
    /// depend on where a client runs).
    public init(_ path: String, runPath: String? = nil) {
        self.path = Self.absolute(path)
        self.runPath = runPath.map(Self.absolute) ?? self.path
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    public var masterSecretPath: String { file("master" + ZMQCertificate.secretSuffix) }
    public var agentsPath: String { file("agents") }
    public var monitorsPath: String { file("monitors") }
    /// Keys the operator rejected (`keys reject`), one `<fingerprint>.key` certificate each.
    public var rejectedPath: String { file("rejected") }
    /// Enrolment tokens (`keys token`), one `<fingerprint>.json` record each: the token's public key, never the token.
    public var tokensPath: String { file("tokens") }
    /// Keys waiting for the operator, written by the serving master: in the run directory, because a packaged
    /// master's key directory is read-only to it.
    public var pendingPath: String { join(runPath, "pending") }
    public var controlPath: String { join(runPath, "control.ipc") }
    public var lockPath: String { join(runPath, "master.lock") }
    /// `ipc://` endpoint of the control channel.
    public var controlEndpoint: String { "ipc://" + controlPath }

    func file(_ name: String) -> String { join(path, name) }

    func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    /// Loads the master's key pair. Refuses a certificate whose `role` says it is not a master's, and a secret file
    /// that group or others can read (pyzmq writes 0644: `chmod 600` it).
    public func loadMasterKeys() throws(MasterError) -> CurveKeyPair {
        let path = masterSecretPath
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw MasterError(
                .keys,
                operation: "load \(path)",
                message:
                    "no master key; create it with: decnet-master keygen --dir \(self.path) --name master --role master"
            )
        }
        if let problem = SecretFileMode.problem(mode: info.st_mode, path: path) {
            throw MasterError(.keys, operation: "load \(path)", message: problem)
        }
        let certificate: ZMQCertificate
        do {
            certificate = try ZMQCertificate.loadSecret(directory: self.path, name: "master")
        } catch {
            throw MasterError(.keys, operation: "load \(path)", message: error.message)
        }
        if let role = certificate.role, role != KeyRole.master.rawValue {
            throw MasterError(
                .keys,
                operation: "load \(path)",
                message: "the certificate's role is \(role), not master"
            )
        }
        guard let pair = certificate.keyPair else {
            throw MasterError(.keys, operation: "load \(path)", message: "the certificate has no secret key")
        }
        return pair
    }

    /// Checks that `agents/` and `monitors/` exist and are directories.
    public func checkAllowLists() throws(MasterError) {
        for folder in [agentsPath, monitorsPath] {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                throw MasterError(
                    .directory,
                    operation: "allow-list \(folder)",
                    message: "missing; create it and put the public .key files of the clients allowed in there"
                )
            }
        }
    }
}

/// Who holds a key: written as the `role` metadata of its certificate.
public enum KeyRole: String, Sendable, CaseIterable {
    case agent, monitor, master
}
