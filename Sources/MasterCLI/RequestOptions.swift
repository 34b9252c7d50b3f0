import AgentProtocol
import ArgumentParser
import CLISupport
import DecnetJSON
import Foundation
import Master
import Synchronization

/// What every request command shares: the directory, the agent, the request id and the timeout.
struct RequestOptions: ParsableArguments {
    @OptionGroup var directory: DirectoryOptions

    @Option(help: "The agent to send the request to.")
    var agent: String

    @Option(
        help: ArgumentHelp(
            "Seconds to wait for the result, at most 604800 (the request waits this long for the agent to connect, too).",
            discussion: """
                When the time is up, the master ends the request. If the agent never received it, it is never sent \
                afterwards and the command exits 1. If the agent did receive it, its outcome is unknown (it may \
                still complete): the command says so and exits 3; re-run it with --id to fetch the stored result.
                """
        )
    )
    var timeout: Double = 600

    @Option(help: "Request id (default: a fresh one). Re-using an id fetches the stored result of that request.")
    var id: String?

    var requestID: String { id ?? "m-" + UUID().uuidString.lowercased() }

    /// Sends `request` through the serving master, prints progress on standard error and the agent's result on
    /// standard output, and exits 0 when its status is 200, 1 otherwise.
    /// With `desire`, the master records the request as the agent's desired state first (docs/control-channel.md#desire).
    func send(_ request: OutgoingRequest, desire: Bool = false) async throws -> Never {
        guard timeout.isFinite, timeout > 0, timeout <= 604_800 else {
            OperatorIO.fail("--timeout must be more than 0 and at most 604800 seconds")
        }
        let agent = self.agent
        let duration = Duration.milliseconds(Int64(timeout * 1000))
        let id = request.id
        // swift-format-ignore: OnlyOneTrailingClosureArgument
        let result = try await ControlSession.with(
            directory.controlDirectory,
            onError: { error in
                guard error.code == .pending else { return nil }
                return (
                    "outcome unknown: \(error.message). The agent may still complete it; fetch the result with "
                        + "--id \(id)", 3
                )
            }
        ) { client throws(MasterError) in
            // The client re-sends its submit every few seconds and each one is acknowledged: print a line only
            // when it says something new.
            let printed = PrintedLine()
            return try await client.submit(
                agentID: agent,
                request: request.jsonValue,
                timeout: duration,
                desire: desire
            ) { message in
                if let line = Self.progressLine(message), printed.isNew(line) {
                    FileHandle.standardError.write(Data((line + "\n").utf8))
                }
            }
        }
        Output.json(.object(result))
        Foundation.exit(result["status"]?.intValue == 200 ? 0 : 1)
    }

    /// One line for people per control message on the way to the result.
    static func progressLine(_ message: JSONObject) -> String? {
        switch message["type"]?.stringValue {
        case "submitted":
            let agent = message["agent_id"]?.stringValue ?? "?"
            return message["agent_connected"]?.boolValue == true
                ? "sent to \(agent)" : "waiting for \(agent) to connect"
        case "answer":
            guard case .object(let inner)? = message["message"] else { return nil }
            switch inner["type"]?.stringValue {
            case "accepted": return "accepted"
            case "progress":
                guard let progress = try? AgentProtocol.Progress(inner) else { return nil }
                return "[\(progress.phase.rawValue) \(progress.done)/\(progress.total)] \(progress.message)"
            default: return nil
            }
        default:
            return nil
        }
    }
}

/// The last progress line printed, so that a repeated one is not printed again.
private final class PrintedLine: Sendable {
    private let last = Mutex<String?>(nil)

    func isNew(_ line: String) -> Bool {
        last.withLock { last in
            defer { last = line }
            return last != line
        }
    }
}
