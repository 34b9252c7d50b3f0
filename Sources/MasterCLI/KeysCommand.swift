import ArgumentParser
import CLISupport
import DecnetJSON
import Foundation
import Master
import ZeroMQ

/// `decnet-master keys`: accepted, pending and rejected agent keys, and the operator's decisions on them
/// (docs/security.md#enrolment, docs/operations.md#enrol). Works on the master's directory; a serving master follows
/// the changes without a restart.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "List agent keys (accepted, pending, rejected); accept, reject or delete one.",
        discussion: """
            A key the master does not know is refused at its handshake and recorded as pending, with its \
            fingerprint (SHA-256 of the public key, 64 hex digits: decnet-agent keygen and run print it) and \
            address. Compare the fingerprint with the agent's, then accept it under the agent's id: the agent \
            is admitted at its next re-dial. KEY is an accepted agent's id or at least 8 leading hex digits of a \
            fingerprint.
            """,
        subcommands: [List.self, Accept.self, Reject.self, Delete.self, Token.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show accepted, pending and rejected keys.")
        @OptionGroup var directory: DirectoryOptions
        @Flag(help: "Print a JSON array, one object per key.")
        var json = false

        func run() throws {
            let entries = KeysCommand.registry(directory).list()
            let tokens = EnrolmentTokens(directory: MasterDirectory(directory.path).tokensPath).list()
            if json {
                Output.json(.array(entries.map(\.jsonValue) + tokens.map(KeysTable.tokenJSON)))
            } else {
                print(KeysTable.render(entries), terminator: "")
                if !tokens.isEmpty { print(KeysTable.render(tokens), terminator: "") }
            }
        }
    }

    struct Accept: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accept a pending (or rejected) key as agent ID: writes agents/ID.key."
        )
        @OptionGroup var directory: DirectoryOptions
        @Argument(help: "The key: at least 8 leading hex digits of its fingerprint.")
        var key: String
        @Option(name: .customLong("id"), help: "The agent id it is admitted as (the agent's --agent-id).")
        var agentID: String
        @Flag(help: "Print the accepted key as JSON.")
        var json = false

        func run() throws {
            let entry = KeysCommand.perform { () throws(MasterError) in
                try KeysCommand.registry(directory).accept(key, id: agentID)
            }
            KeysCommand.report("accepted", entry, json: json)
        }
    }

    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reject a pending or accepted key: its handshakes are refused quietly from now on."
        )
        @OptionGroup var directory: DirectoryOptions
        @Argument(help: "The key: an accepted agent's id, or at least 8 leading hex digits of its fingerprint.")
        var key: String
        @Flag(help: "Print the rejected key as JSON.")
        var json = false

        func run() throws {
            let entry = KeysCommand.perform { () throws(MasterError) in try KeysCommand.registry(directory).reject(key)
            }
            KeysCommand.report("rejected", entry, json: json)
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Forget a key wherever it is (an accepted one is revoked; a key still dialling comes back pending)."
        )
        @OptionGroup var directory: DirectoryOptions
        @Argument(help: "The key: an accepted agent's id, or at least 8 leading hex digits of its fingerprint.")
        var key: String
        @Flag(help: "Print the deleted key as JSON.")
        var json = false

        func run() throws {
            let entry = KeysCommand.perform { () throws(MasterError) in try KeysCommand.registry(directory).delete(key)
            }
            KeysCommand.report("deleted", entry, json: json)
        }
    }

    static func registry(_ options: DirectoryOptions) -> KeyRegistry {
        KeyRegistry(directory: MasterDirectory(options.path, runPath: options.controlDirectory))
    }

    /// Runs one decision; a refusal is one line on standard error and exit 1 (2 for a malformed argument).
    static func perform(_ body: () throws(MasterError) -> KeyRegistry.Entry) -> KeyRegistry.Entry {
        do {
            return try body()
        } catch {
            OperatorIO.fail("keys: \(error.message) [\(error.code)]", status: error.code == .badRequest ? 2 : 1)
        }
    }

    static func report(_ verb: String, _ entry: KeyRegistry.Entry, json: Bool) {
        if json {
            Output.json(entry.jsonValue)
        } else {
            let name = entry.id.map { " as \($0)" } ?? ""
            print("\(verb) \(entry.fingerprint)\(name)")
        }
    }
}
