import ArgumentParser
import CLISupport
import Master
import ZeroMQ

/// `decnet-master keygen`: a CURVE certificate pair for an agent, a monitor or the master.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create NAME.key (public, 0644) and NAME.key_secret (0600) in DIR; refuses to overwrite.",
        discussion: """
            The files are ZeroMQ certificates in the czmq/pyzmq format with metadata role and, for agents, \
            agent-id (default NAME). The master needs DIR/master.key_secret (--role master --name master); \
            copy an agent's NAME.key into the master's agents/ folder as agents/AGENT-ID.key (the file name is \
            the agent's identity, and the master refuses a certificate whose agent-id names another agent) and a \
            monitor's into monitors/.
            """
    )

    @Option(help: "Where to write the files (created with mode 0700 when missing).")
    var dir: String

    @Option(help: "File name stem: NAME.key and NAME.key_secret.")
    var name: String?

    @Option(help: "agent, monitor or master.")
    var role: String?

    @Option(name: .customLong("agent-id"), help: "The identity the master sees (agents: default NAME).")
    var agentID: String?

    @Flag(help: "Make the master's next key, DIR/master.next.key(_secret), for a rollover (docs/operations.md#rotate).")
    var rotate = false

    @Flag(help: "Make DIR/master.next the master's key (the old one becomes master.previous); then restart serve.")
    var promote = false

    func run() throws {
        if rotate || promote {
            guard !(rotate && promote), name == nil, role == nil, agentID == nil else {
                OperatorIO.fail("--rotate and --promote go alone with --dir")
            }
            do {
                let certificate =
                    rotate
                    ? try MasterKeyRollover.prepareNext(directory: dir)
                    : try MasterKeyRollover.promote(directory: dir)
                print(certificate.publicKey.z85)
                StandardStream.writeError("fingerprint \(certificate.publicKey.fingerprint)\n")
            } catch {
                OperatorIO.fail("keygen: \(error.message)", status: 1)
            }
            return
        }
        guard let name, let role else { OperatorIO.fail("keygen needs --name and --role (or --rotate, --promote)") }
        guard let keyRole = KeyRole(rawValue: role) else {
            OperatorIO.fail("--role must be agent, monitor or master, not \(role)")
        }
        do {
            let certificate = try KeyGenerator.generate(directory: dir, name: name, role: keyRole, agentID: agentID)
            print(certificate.publicKey.z85)
            // docs/security.md#fingerprint; on standard error, so scripts read the public key alone.
            StandardStream.writeError("fingerprint \(certificate.publicKey.fingerprint)\n")
        } catch {
            OperatorIO.fail("keygen: \(error.message)", status: 1)
        }
    }
}
