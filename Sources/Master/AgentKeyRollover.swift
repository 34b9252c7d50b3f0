import Foundation
import ZeroMQ

/// The master's files during an agent key rotation (docs/security.md#key-rotation): the old key stays in
/// `agents/ID.key` and the new one is listed beside it as `agents/ID+next.key` (same identity), until the agent is
/// seen connected with the new key; then one `rename` puts the new key in `agents/ID.key`, and the old key is
/// refused (and any connection still using it revoked) from then on.
public struct AgentKeyRollover: Sendable {
    public let directory: MasterDirectory
    public let agentID: String

    public init(directory: MasterDirectory, agentID: String) {
        self.directory = directory
        self.agentID = agentID
    }

    public var currentPath: String { directory.agentsPath + "/" + agentID + ZMQCertificate.publicSuffix }
    public var nextPath: String { directory.agentsPath + "/" + agentID + "+next" + ZMQCertificate.publicSuffix }

    /// The agent's listed key, or an error when the agent is not enrolled.
    public func currentKey() throws(MasterError) -> CurveKey {
        guard AllowListAuthoriser.isValidIdentity(agentID) else {
            throw MasterError(.badRequest, operation: "rotate-key", message: "\(agentID) is not a valid agent id")
        }
        do {
            return try ZMQCertificate.load(path: currentPath).publicKey
        } catch {
            throw MasterError(.notEnrolled, operation: "rotate-key \(agentID)", message: "no key at \(currentPath)")
        }
    }

    /// The key listed as next, if any.
    public func nextKey() -> CurveKey? { (try? ZMQCertificate.load(path: nextPath))?.publicKey }

    /// Lists `key` as the agent's next key (replacing an older next entry). Refuses a key that another entry already
    /// lists, or that the operator rejected: an agent answering with another agent's public key would otherwise make
    /// that key listed twice, and every entry of a key listed twice is refused (docs/security.md#key-rotation).
    public func enrolNext(_ key: CurveKey) throws(MasterError) {
        for item in KeyFolder.certificates(in: directory.agentsPath)
        where item.certificate.publicKey == key && item.name != agentID + "+next" {
            throw MasterError(
                .conflict,
                operation: "rotate-key \(agentID)",
                message: "the agent answered a key that agents/\(item.name).key already lists; nothing changed"
            )
        }
        if KeyFolder(directory: directory.rejectedPath).contains(key) {
            throw MasterError(
                .conflict,
                operation: "rotate-key \(agentID)",
                message: "the agent answered a rejected key; nothing changed"
            )
        }
        let text: String
        do {
            text = try ZMQCertificate(publicKey: key, metadata: ["role": "agent", "agent-id": agentID])
                .render(includeSecret: false)
        } catch {
            throw MasterError(.keys, operation: "rotate-key \(agentID)", message: error.message)
        }
        try AtomicFile.write(Array(text.utf8), to: nextPath, mode: 0o644)
    }

    /// The agent was seen with its next key: it becomes `agents/ID.key`, in one `rename`.
    public func finish() throws(MasterError) {
        guard rename(nextPath, currentPath) == 0 else {
            let number = errno
            throw MasterError(
                .io,
                operation: "rename \(nextPath) to \(currentPath)",
                message: String(cString: strerror(number))
            )
        }
    }
}
