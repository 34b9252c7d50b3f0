import AgentCore
import AgentProtocol
import AgentStore
import DecnetJSON
import Foundation
import Logging
import TestSupport
import Topology

/// The real agent core (command dispatcher, topology operations, a `TopologyStore` on disk) over the in-memory
/// runtime, fed frames one at a time. The state directory sits one level below a private root folder, so a file
/// written through a path traversal shows up in `snapshot()`.
final class HostileAgent: Sendable {
    static let baselineID = "baseline"

    let root: String
    let directory: String
    let store: TopologyStore
    let runtime = InMemoryRuntime()
    let settings: AgentSettings
    let answers = Locked<[JSONValue]>([])
    private let feed: AsyncStream<[UInt8]>.Continuation
    private let task: Task<Void, Never>

    init() throws {
        root = NSTemporaryDirectory() + "hostile-\(UUID().uuidString)"
        directory = root + "/state"
        store = try TopologyStore(stateDirectory: directory)
        let executor = StoreExecutor(store: store)
        settings = AgentSettings(
            agentID: "hostile-agent",
            agentVersion: "test",
            bootID: "boot-1",
            stateDirectory: directory,
            templatesRoot: "/nonexistent/templates"
        )
        let operations = TopologyOperations(
            settings: settings,
            store: executor,
            runtime: runtime,
            // Ports bound on this shared machine are not these tests' business.
            preflight: PortPreflight(boundPorts: { () throws(ComposeError) in [] }),
            now: { 1_776_749_115 }
        )
        let answers = self.answers
        let dispatcher = CommandDispatcher(
            operations: operations,
            store: executor,
            settings: settings,
            now: { 1_776_749_115 },
            logger: Logger(label: "test.hostile") { _ in SwiftLogNoOpLogHandler() },
            send: { out in answers.withLock { $0.append((try? JSONParser.parse(out.frame)) ?? .null) } }
        )
        let (stream, feed) = AsyncStream<[UInt8]>.makeStream()
        self.feed = feed
        task = Task { await dispatcher.run(frames: stream) }
    }

    /// Stops the dispatcher and removes the folder.
    func stop() async {
        feed.finish()
        await task.value
        store.close()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Sends one frame and returns the `result` it gets (frames are answered in order; long operations are waited
    /// for, so the next `result` is this frame's).
    func send(_ frame: [UInt8], timeout: Duration = .seconds(30)) async throws -> JSONValue {
        let before = answers.withLock { $0.count }
        feed.yield(frame)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let result = answers.withLock { a in a[before...].first { $0["type"] == "result" } }
            if let result { return result }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw FixtureError("no result within \(timeout)")
    }

    /// Applies the base topology with request id `baseline`, as the state every case starts from.
    func applyBaseline() async throws {
        let result = try await send(Frames.apply(id: Self.baselineID))
        guard try ResultMessage(answer: result).status == 200 else {
            throw FixtureError("baseline apply failed: \(result.jsonText)")
        }
    }

    func snapshot() throws -> AgentSnapshot {
        try AgentSnapshot.take(root: root, database: store.path, runtime: runtime)
    }

    /// Runs `body` with a fresh agent that has the base topology applied, and stops it afterwards.
    static func withBaseline(_ body: (HostileAgent) async throws -> Void) async throws {
        try await withAgent(baseline: true, body)
    }

    /// Runs `body` with a fresh agent (with nothing applied unless `baseline`), and stops it afterwards.
    static func withAgent(baseline: Bool, _ body: (HostileAgent) async throws -> Void) async throws {
        let agent = try HostileAgent()
        do {
            if baseline { try await agent.applyBaseline() }
            try await body(agent)
        } catch {
            await agent.stop()
            throw error
        }
        await agent.stop()
    }
}
