import Foundation
import ZeroMQ

/// Creates CURVE certificates for the fleet (`decnet-master keygen`): `NAME.key` (0644) and `NAME.key_secret`
/// (0600) in the czmq/pyzmq ZPL format, with `role` metadata and, for agents, `agent-id`. The master takes an agent's
/// identity from the name of its allow-list entry and refuses a certificate whose `agent-id` names another
/// (docs/wire-protocol.md#identity).
public enum KeyGenerator {
    /// Writes a fresh key pair for `name` into `directory` (created with mode 0700 when missing) and returns the
    /// certificate. `agentID` defaults to `name` for agents; monitors and masters get one only when it is given.
    /// Refuses to replace existing files, and names that are not safe file names and valid agent ids.
    @discardableResult
    public static func generate(
        directory: String,
        name: String,
        role: KeyRole,
        agentID: String? = nil
    ) throws(MasterError) -> ZMQCertificate {
        let operation = "keygen \(name)"
        guard AllowListAuthoriser.isValidIdentity(name) else {
            throw MasterError(
                .badRequest,
                operation: operation,
                message: "a key name is 1 to 64 characters of A-Z a-z 0-9 . _ - not starting with '.'"
            )
        }
        let identity = agentID ?? (role == .agent ? name : nil)
        if let identity, !AllowListAuthoriser.isValidIdentity(identity) {
            throw MasterError(
                .badRequest,
                operation: operation,
                message: "agent id \(identity) is not 1 to 64 characters of A-Z a-z 0-9 . _ - not starting with '.'"
            )
        }
        do {
            try FileManager.default.createDirectory(
                atPath: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw MasterError(
                .io,
                operation: operation,
                message: "cannot create \(directory): \(error.localizedDescription)"
            )
        }
        var metadata = ["role": role.rawValue]
        if let identity { metadata["agent-id"] = identity }
        do {
            let certificate = try ZMQCertificate.generate(metadata: metadata)
            try certificate.write(directory: directory, name: name, overwrite: false)
            return certificate
        } catch {
            throw MasterError(error.code == .io ? .io : .keys, operation: operation, message: error.message)
        }
    }
}
