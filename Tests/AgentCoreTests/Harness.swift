import AgentCore
import AgentProtocol
import AgentStore
import DecnetJSON
import Foundation
import Logging
import Synchronization
import TestSupport
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
    let sent = Locked<[JSONValue]>([])
    /// The frames as sent, for the tests that check exact bytes.
    let frames = Locked<[[UInt8]]>([])
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
        let frames = self.frames
        let clock = self.clock
        return CommandDispatcher(
            operations: operations,
            store: executor,
            settings: settings,
            now: { clock.withLock { $0 } },
            logger: logger,
            send: { out in
                let value = (try? JSONParser.parse(out.frame)) ?? .null
                sent.withLock { $0.append(value) }
                frames.withLock { $0.append(out.frame) }
            }
        )
    }

    var messages: [JSONValue] { sent.withLock { $0 } }

    func messages(id: String) -> [JSONValue] { messages.filter { $0["id"]?.stringValue == id } }

    /// Waits (bounded) until a message matches.
    func waitFor(_ what: String, timeout: Duration = .seconds(10), _ match: (JSONValue) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if messages.contains(where: match) { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw FixtureError("timed out waiting for \(what); got \(messages.map(\.jsonText))")
    }
}

let noProgress: TopologyOperations.Progress = { _, _, _, _ in }
