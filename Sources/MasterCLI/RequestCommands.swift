import ArgumentParser
import CLISupport
import DecnetJSON
import Foundation
import Master

/// `decnet-master request`: what the master's store knows of one request (docs/control-channel.md#request).
struct RequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "Show what the master's store knows of one apply or teardown: its status and the agent's result.",
        discussion: """
            Nothing is sent to the agent. Exits 0 when the request is found (whatever its status), 1 when the \
            store holds no such request for the agent (unknown_request) or no master serves the directory.
            """
    )

    @OptionGroup var directory: DirectoryOptions

    @Option(help: "The agent the request was for.")
    var agent: String

    @Flag(help: "Print the request message as JSON.")
    var json = false

    @Argument(help: "The request id.")
    var requestID: String

    func run() async throws {
        let agent = self.agent
        let requestID = self.requestID
        let answer = try await ControlSession.with(directory.controlDirectory) { client throws(MasterError) in
            try await client.request(agentID: agent, requestID: requestID)
        }
        if json {
            Output.json(.object(answer))
        } else {
            print(RequestTable.render(answer["request"] ?? .null), terminator: "")
        }
    }
}

/// `decnet-master requests`: an agent's most recent requests, newest first (docs/control-channel.md#request).
struct RequestsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requests",
        abstract: "List an agent's most recent applies and teardowns (the operator's and reconcile's), newest first."
    )

    @OptionGroup var directory: DirectoryOptions

    @Option(help: "The agent.")
    var agent: String

    @Option(help: "How many, newest first (the master clamps it into 1...1000).")
    var limit: Int = 20

    @Flag(help: "Print the requests message as JSON.")
    var json = false

    func run() async throws {
        let agent = self.agent
        let limit = self.limit
        let answer = try await ControlSession.with(directory.controlDirectory) { client throws(MasterError) in
            try await client.requests(agentID: agent, limit: limit)
        }
        if json {
            Output.json(.object(answer))
        } else {
            print(RequestTable.list(answer["requests"]?.arrayValue ?? []), terminator: "")
        }
    }
}

/// Request entries for people.
enum RequestTable {
    /// One request, one member per line.
    static func render(_ entry: JSONValue) -> String {
        var rows = [
            ["agent", text(entry["agent_id"])], ["id", text(entry["id"])], ["type", text(entry["type"])],
            ["origin", text(entry["origin"])], ["topology", topology(entry)], ["status", text(entry["status"])],
            ["created", time(entry["created_at"])], ["deadline", time(entry["deadline_at"])],
            ["finished", time(entry["finished_at"])],
        ]
        if let result = entry["result"], !result.isNull {
            rows.append(["result", String(decoding: PythonJSONEncoder().encode(result), as: UTF8.self)])
        }
        if let error = entry["error"], !error.isNull { rows.append(["error", outcome(entry)]) }
        return TextTable.lines(rows).joined(separator: "\n") + "\n"
    }

    /// Several requests as a table.
    static func list(_ entries: [JSONValue]) -> String {
        var rows = [["CREATED", "ID", "TYPE", "ORIGIN", "TOPOLOGY", "STATUS", "OUTCOME"]]
        for entry in entries {
            rows.append([
                time(entry["created_at"]), text(entry["id"]), text(entry["type"]), text(entry["origin"]),
                topology(entry), text(entry["status"]), outcome(entry),
            ])
        }
        return TextTable.lines(rows).joined(separator: "\n") + "\n"
    }

    /// The agent's result status (and error code), or the master's error code, or `-`.
    static func outcome(_ entry: JSONValue) -> String {
        if let result = entry["result"], let status = result["status"]?.intValue {
            let code = result["error"]?["code"]?.stringValue
            return code.map { "\(status) [\($0)] \(result["error"]?["message"]?.stringValue ?? "")" } ?? "\(status)"
        }
        if let error = entry["error"], let code = error["code"]?.stringValue {
            let sent = error["sent"]?.boolValue.map { $0 ? " (sent)" : " (never sent)" } ?? ""
            return "[\(code)]\(sent) \(error["message"]?.stringValue ?? "")"
        }
        return "-"
    }

    private static func topology(_ entry: JSONValue) -> String {
        let id = entry["topology_id"]?.stringValue ?? "-"
        guard let hash = entry["version_hash"]?.stringValue else { return id }
        return "\(id)@\(hash.prefix(12))"
    }

    private static func text(_ value: JSONValue?) -> String { value?.stringValue ?? "-" }

    /// Unix milliseconds as UTC ISO 8601, or `-`.
    private static func time(_ value: JSONValue?) -> String {
        guard let millis = value?.integerValue?.int64Value else { return "-" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
