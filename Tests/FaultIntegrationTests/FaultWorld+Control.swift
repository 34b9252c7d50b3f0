import AgentProtocol
import AgentStore
import DecnetJSON
import Foundation
import Master
import TestSupport

/// The operator's side: requests through the serving master's control channel (what `decnet-master apply|state|
/// teardown|agents` do), and a look at an agent's store file from outside.
extension FaultWorld {
    /// Runs `body` with a control client connected to the serving master, closed afterwards.
    func withControl<T: Sendable>(_ body: (ControlClient) async throws -> T) async throws -> T {
        let client = try await ControlClient.connect(directory: masterDirectory)
        do {
            let value = try await body(client)
            await client.close()
            return value
        } catch {
            await client.close()
            throw error
        }
    }

    /// The fleet snapshot.
    func fleet(timeout: Duration = .seconds(5)) async throws -> JSONObject {
        try await withControl { try await $0.fleet(timeout: timeout) }
    }

    /// The master's record of one agent (`agents --json`), if it knows the agent.
    func record(_ agentID: String) async throws -> JSONObject? {
        let agents = try await fleet()["agents"]?.arrayValue ?? []
        return agents.first { $0["agent_id"]?.stringValue == agentID }?.objectValue
    }

    /// Waits until the master's record of the agent satisfies `condition` (a hello or heartbeat arrived).
    func waitForRecord(
        _ agentID: String,
        _ what: String,
        within seconds: Double = 30,
        where condition: @escaping @Sendable (JSONObject) -> Bool
    ) async throws -> JSONObject {
        try await awaitValue("\(agentID): \(what)", within: seconds, every: .milliseconds(50)) {
            guard let record = try? await record(agentID), condition(record) else { return nil }
            return record
        }
    }

    /// Sends a wire request to an agent through the master and returns the agent's `result` envelope. The control
    /// client re-sends the submit while no answer comes, so a master restart in between loses nothing.
    func submit(
        _ agentID: String,
        _ request: JSONValue,
        timeout: Double = 120,
        resendEvery: Duration = .milliseconds(500),
        onMessage: @escaping @Sendable (JSONObject) -> Void = { _ in }
    ) async throws -> JSONObject {
        try await withControl { client in
            try await client.submit(
                agentID: agentID,
                request: request,
                timeout: .milliseconds(Int64(timeout * 1000)),
                resendEvery: resendEvery,
                onMessage: onMessage
            )
        }
    }

    /// The agent's state object, asked over the wire (status 200 required).
    func state(_ agentID: String) async throws -> JSONValue {
        let id = "state-\(UUID().uuidString.prefix(8))"
        let result = try await submit(agentID, OutgoingRequest(id: id, .state).jsonValue, timeout: 30)
        guard let body = try ResultMessage(answer: result).body else {
            throw FaultTestError("state of \(agentID) failed: \(JSONValue.object(result).jsonText)")
        }
        return body
    }

    /// The phase, done and total of a control message carrying an agent's `progress`.
    static func progress(_ message: JSONObject) -> (phase: String, done: Int, total: Int)? {
        guard message["type"]?.stringValue == "answer", let inner = message["message"],
            inner["type"]?.stringValue == "progress", let phase = inner["phase"]?.stringValue
        else { return nil }
        return (phase, inner["done"]?.intValue ?? -1, inner["total"]?.intValue ?? -1)
    }

    /// What a store file holds, read without changing it (read-only, as a crashed agent left it).
    static func inspectStore(_ path: String) throws -> StoreLook {
        let store = try TopologyStore(path: path, access: .readOnly)
        defer { store.close() }
        let (applied, attempt) = try store.snapshot()
        return StoreLook(integrity: try store.integrityCheck(), applied: applied, attempt: attempt)
    }
}

extension FaultWorld {
    /// ``inspectStore(_:)`` of a copy of the database and its WAL files: for a store inside a private mount
    /// namespace, reached through `/proc/<pid>/root`, a path SQLite itself would resolve back to the host's view.
    func inspectStoreCopy(_ path: String) throws -> StoreLook {
        let copy = try TemporaryDirectory("fault-store")
        defer { copy.remove() }
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.copyItem(atPath: path + suffix, toPath: copy.file("agent.db") + suffix)
        }
        return try Self.inspectStore(copy.file("agent.db"))
    }
}

/// A store file seen from outside.
struct StoreLook: Sendable {
    var integrity: [String]
    var applied: AppliedTopology?
    var attempt: ApplyAttempt?
}

/// Sorted string lists of a JSON value (the state object's lists).
extension JSONValue {
    var strings: [String] { arrayValue?.compactMap(\.stringValue) ?? [] }
    var stringSet: Set<String> { Set(strings) }
}
