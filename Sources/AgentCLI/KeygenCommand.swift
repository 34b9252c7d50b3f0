import AgentProtocol
import ArgumentParser
import CLISupport
import SystemFiles
import ZeroMQ

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `decnet-agent keygen`: this agent's CURVE certificate pair, without the master's binary (the Debian package's
/// postinst makes `/etc/decnet/agent/agent.key_secret` with it).
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract:
            "Create NAME.key (public, 0644) and NAME.key_secret (0600) in DIR for this agent; refuses to overwrite.",
        discussion: """
            The files are ZeroMQ certificates in the czmq/pyzmq format with metadata role=agent and, when \
            --agent-id is given, agent-id. Prints the public key (Z85) and, on standard error, its fingerprint \
            (docs/security.md#fingerprint), which the master's keys list shows for a pending key. Copy NAME.key into the master's agents/ \
            folder as agents/AGENT-ID.key: the master takes the agent's identity from that file name, and refuses a \
            certificate whose agent-id metadata names another agent. Same format as decnet-master keygen --role agent.
            """
    )

    @Option(help: "Where to write the files (created with mode 0700 when missing).")
    var dir: String

    @Option(help: "File name stem: NAME.key and NAME.key_secret.")
    var name = "agent"

    @Option(name: .customLong("agent-id"), help: "The identity written into the certificate (default: none).")
    var agentID: String?

    func run() throws {
        guard Identifiers.isValidAgentID(name) else {
            OperatorIO.fail("--name must be 1 to 64 characters of A-Z a-z 0-9 . _ - not starting with '.'")
        }
        if let agentID, !Identifiers.isValidAgentID(agentID) {
            OperatorIO.fail("--agent-id must be 1 to 64 characters of A-Z a-z 0-9 . _ - not starting with '.'")
        }
        do {
            try FileManager.default.createDirectory(
                atPath: dir,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            OperatorIO.fail("keygen: cannot create \(dir): \(FileErrorText.reason(error))", status: 1)
        }
        var metadata = ["role": "agent"]
        if let agentID { metadata["agent-id"] = agentID }
        do {
            let certificate = try ZMQCertificate.generate(metadata: metadata)
            try certificate.write(directory: dir, name: name, overwrite: false)
            StandardStream.writeOutput(certificate.publicKey.z85 + "\n")
            // The fingerprint goes to standard error: scripts read the public key alone from standard output.
            StandardStream.writeError(AgentKeyBootstrap.fingerprintLine(certificate.publicKey) + "\n")
        } catch {
            OperatorIO.fail("keygen: \(error.message)", status: 1)
        }
    }
}
