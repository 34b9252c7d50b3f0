import ArgumentParser
import CLISupport
import DecnetJSON
import Foundation
import Master

/// `decnet-master desired`: what each agent should run next to what it reports (docs/control-channel.md#desired).
struct DesiredCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "desired",
        abstract: "Show each agent's desired topology next to what it reports, and its reconcile state."
    )

    @OptionGroup var directory: DirectoryOptions

    @Option(help: "Only this agent.")
    var agent: String?

    @Flag(help: "Print the desired message as JSON.")
    var json = false

    func run() async throws {
        let agent = self.agent
        let answer = try await ControlSession.with(directory.controlDirectory) { client throws(MasterError) in
            try await client.desired(agentID: agent)
        }
        if json {
            Output.json(.object(answer))
        } else {
            print(DesiredTable.render(answer), terminator: "")
        }
    }
}

/// `forget`, `pause` and `resume`: one agent, one change, its entry printed afterwards.
struct AgentActionOptions: ParsableArguments {
    @OptionGroup var directory: DirectoryOptions

    @Option(help: "The agent.")
    var agent: String

    @Flag(help: "Print the answer as JSON.")
    var json = false

    func run(_ type: String) async throws {
        let agent = self.agent
        let answer = try await ControlSession.with(directory.controlDirectory) { client throws(MasterError) in
            try await client.agentAction(type, agentID: agent)
        }
        if json {
            Output.json(.object(answer))
        } else {
            print(DesiredTable.render(answer), terminator: "")
        }
    }
}

/// `decnet-master forget`: drops an agent's desired state without touching the agent.
struct ForgetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Drop an agent's desired state; nothing is sent to the agent and the master stops reconciling it.",
        discussion: """
            The master still remembers which topologies it applied there (applied_here): a later teardown (desired \
            none) tears them down again if the agent still runs them (docs/control-channel.md#desired).
            """
    )

    @OptionGroup var options: AgentActionOptions

    func run() async throws { try await options.run("forget") }
}

/// `decnet-master pause`: no reconcile push or teardown for the agent until `resume`.
struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Stop reconciling an agent (maintenance); a request in flight runs to its end."
    )

    @OptionGroup var options: AgentActionOptions

    func run() async throws { try await options.run("pause") }
}

/// `decnet-master resume`: reconcile the agent again, back-off reset.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Reconcile an agent again, at once, with its back-off reset."
    )

    @OptionGroup var options: AgentActionOptions

    func run() async throws { try await options.run("resume") }
}

/// The `desired` message as a table for people.
enum DesiredTable {
    static func render(_ message: JSONObject) -> String {
        var lines = [["AGENT", "DESIRED", "REPORTED", "CONNECTED", "RECONCILE", "REASON", "ATTEMPTS", "LAST ERROR"]]
        for agent in message["agents"]?.arrayValue ?? [] {
            let desired: String
            switch agent["desired"] {
            case .object(let value)?:
                desired = value["topology_id"]?.stringValue.map { "\($0)@\(short(value["version_hash"]))" } ?? "none"
            default: desired = "-"
            }
            let reported = agent["reported"]
            let applied =
                reported?["topology_id"]?.stringValue.map { "\($0)@\(short(reported?["applied_version_hash"]))" }
                ?? (reported?.isNull ?? true ? "?" : "nothing")
            let reconcile = agent["reconcile"]
            var state = reconcile?["state"]?.stringValue ?? "?"
            if agent["paused"]?.boolValue == true, state != "paused" { state += " (paused)" }
            lines.append([
                agent["agent_id"]?.stringValue ?? "?", desired, applied,
                reported?["connected"]?.boolValue.map { $0 ? "yes" : "no" } ?? "-", state,
                reconcile?["reason"]?.stringValue ?? "-", "\(reconcile?["attempts"]?.intValue ?? 0)",
                reconcile?["last_error"]?.stringValue ?? "-",
            ])
        }
        return TextTable.lines(lines).joined(separator: "\n") + "\n"
    }

    private static func short(_ hash: JSONValue?) -> String { String((hash?.stringValue ?? "?").prefix(12)) }
}
