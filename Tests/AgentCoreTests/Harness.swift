import AgentCore
import AgentProtocol
import AgentStore
import DecnetJSON
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing
import Topology

/// An agent core over a temporary state directory and the in-memory runtime.
final class Harness: Sendable {
    let directory: String
    let store: TopologyStore
    let executor: StoreExecutor
    let runtime = InMemoryRuntime()
    let settings: AgentSettings
    let operations: TopologyOperations
    let clock = Locked<Int64>(1_776_749_115)
    /// Every frame the dispatcher sent, with its parse (`.null` for a frame that is not JSON).
    let sent = Locked<[(frame: [UInt8], value: JSONValue)]>([])
    let boundPorts = Locked<Set<HostPort>>([])
    let logger: Logger

    /// `logger` goes to the operations and the dispatcher (silent unless a test captures it).
    init(logger: Logger = TopologyOperations.silentLogger) throws {
        self.logger = logger
        directory = NSTemporaryDirectory() + "agentcore-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try TopologyStore(path: directory + "/agent.db")
        executor = StoreExecutor(store: store)
        settings = AgentSettings(
            agentID: "agent-1",
            agentVersion: "test",
            bootID: "boot-1",
            stateDirectory: directory,
            templatesRoot: "/nonexistent/templates"
        )
        let clock = self.clock
        let bound = self.boundPorts
        operations = TopologyOperations(
            settings: settings,
            store: executor,
            runtime: runtime,
            preflight: PortPreflight(boundPorts: { () throws(ComposeError) in bound.withLock { $0 } }),
            now: { clock.withLock { $0 } },
            logger: logger
        )
    }

    deinit {
        store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func dispatcher() -> CommandDispatcher {
        let sent = self.sent
        let clock = self.clock
        return CommandDispatcher(
            operations: operations,
            store: executor,
            settings: settings,
            now: { clock.withLock { $0 } },
            logger: logger,
            send: { out in
                let value = (try? JSONParser.parse(out.frame)) ?? .null
                sent.withLock { $0.append((out.frame, value)) }
            }
        )
    }

    var messages: [JSONValue] { sent.withLock { $0.map(\.value) } }

    func messages(id: String) -> [JSONValue] { messages.filter { $0["id"]?.stringValue == id } }

    /// The frames sent for `id`, byte for byte.
    func frames(id: String) -> [[UInt8]] {
        sent.withLock { $0.filter { $0.value["id"]?.stringValue == id }.map(\.frame) }
    }

    /// The `type` of every message sent for `id`, in order (`accepted`, `progress`, `result`).
    func types(id: String) -> [String] { messages(id: id).map { $0["type"]?.stringValue ?? "?" } }

    /// The `result`s sent for `id`, decoded.
    func results(id: String) throws -> [ResultMessage] {
        try messages(id: id).filter { $0["type"] == "result" }.map { value throws in
            try ResultMessage(Self.object(value))
        }
    }

    /// The `progress` messages sent for `id`, decoded.
    func progress(id: String) throws -> [AgentProtocol.Progress] {
        try messages(id: id).filter { $0["type"] == "progress" }.map { value throws in
            try AgentProtocol.Progress(Self.object(value))
        }
    }

    /// Waits (bounded) until `count` results were sent for `id`; answers the last, decoded.
    func result(of id: String, count: Int = 1) async throws -> ResultMessage {
        try await waitUntil("\(count) result(s) of \(id)") { ((try? results(id: id)) ?? []).count >= count }
        return try #require(try results(id: id).last)
    }

    /// Waits (bounded) until a message of `type` was sent for `id`.
    func wait(for type: String, of id: String, count: Int = 1) async throws {
        try await waitUntil("\(count) \(type) of \(id)") { types(id: id).filter { $0 == type }.count >= count }
    }

    static func object(_ value: JSONValue) throws -> JSONObject {
        guard case .object(let object) = value else { throw FixtureError("not an object: \(value.jsonText)") }
        return object
    }

    /// Waits (bounded) until a message matches.
    func waitFor(_ what: String, timeout: Duration = .seconds(10), _ match: (JSONValue) -> Bool) async throws {
        try await waitUntil(what, timeout: timeout) { messages.contains(where: match) }
    }

    /// Waits (bounded) until `condition` holds.
    func waitUntil(_ what: String, timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw FixtureError("timed out waiting for \(what); got \(messages.map(\.jsonText))")
    }
}

let noProgress: TopologyOperations.Progress = { _, _, _, _ in }
