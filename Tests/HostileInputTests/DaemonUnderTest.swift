import AgentApplication
import AgentCore
import AgentProtocol
import AgentStore
import AgentTransport
import DecnetJSON
import Foundation
import LiveTestSupport
import Logging
import TestSupport
import Topology
import ZeroMQ

/// The real agent daemon (`buildAgent`: DEALER + PUB as CURVE clients, dispatcher, store on disk) against a test
/// master on loopback, with the in-memory runtime.
struct DaemonUnderTest {
    let id: String
    let keys: CurveKeyPair
    let root: String
    let directory: String
    let store: TopologyStore
    let runtime: InMemoryRuntime
    let app: AgentApplication

    static let quiet = Logger(label: "test.hostile.agent") { _ in SwiftLogNoOpLogHandler() }

    /// - Parameters:
    ///   - commandEndpoint, heartbeatEndpoint, masterKey: where and whom the agent dials.
    ///   - logger: the daemon's logger (a capturing one for the log tests).
    init(
        commandEndpoint: String,
        heartbeatEndpoint: String,
        masterKey: CurveKey,
        keys: CurveKeyPair? = nil,
        logger: Logger = DaemonUnderTest.quiet
    ) async throws {
        id = "hostile-\(UUID().uuidString.prefix(8).lowercased())"
        self.keys = try keys ?? CurveKeyPair.generate()
        root = NSTemporaryDirectory() + "hostile-daemon-\(UUID().uuidString)"
        directory = root + "/state"
        store = try TopologyStore(stateDirectory: directory)
        runtime = InMemoryRuntime()
        let settings = AgentSettings(
            agentID: id,
            agentVersion: "test",
            bootID: UUID().uuidString.lowercased(),
            stateDirectory: directory,
            templatesRoot: "/nonexistent",
            heartbeatIntervalMillis: 200
        )
        let link = AgentLinkConfiguration(
            agentID: id,
            commandEndpoint: commandEndpoint,
            heartbeatEndpoint: heartbeatEndpoint,
            masterKey: masterKey,
            keys: self.keys,
            reconnectMillis: 100,
            reconnectMaxMillis: 500,
            lingerMillis: 0
        )
        app = try await buildAgent(
            configuration: AgentConfiguration(
                settings: settings,
                link: link,
                preflight: PortPreflight(boundPorts: { () throws(ComposeError) in [] })
            ),
            core: AgentCoreParts(
                settings: settings,
                store: store,
                runtime: runtime,
                preflight: PortPreflight(boundPorts: { () throws(ComposeError) in [] }),
                logger: logger
            ),
            logger: logger
        )
    }

    init(master: TestMaster, logger: Logger = DaemonUnderTest.quiet) async throws {
        try await self.init(
            commandEndpoint: master.commandEndpoint.value,
            heartbeatEndpoint: master.heartbeatEndpoint,
            masterKey: master.keys.publicKey,
            logger: logger
        )
        try master.allow(agentID: id, keys: keys)
    }

    func snapshot() throws -> AgentSnapshot {
        try AgentSnapshot.take(root: root, database: store.path, runtime: runtime)
    }

    /// Closes what the daemon left open (the store) and removes the folder.
    func remove() async {
        await app.close()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Runs `body` with a test master pumping and this daemon running, then shuts both down.
    static func withMaster(
        logger: Logger = DaemonUnderTest.quiet,
        _ body: (TestMaster, DaemonUnderTest) async throws -> Void
    ) async throws {
        let master = try await TestMaster()
        let agent = try await DaemonUnderTest(master: master, logger: logger)
        let pump = Task { await master.pump() }
        let run = Task { try await agent.app.run() }
        var failure: (any Error)?
        do {
            try await master.waitFor("hello") {
                master.commands.value.contains { $0.routingId == agent.id && $0.message["type"] == "hello" }
            }
            try await body(master, agent)
        } catch {
            failure = error
        }
        run.cancel()
        _ = try? await run.value
        pump.cancel()
        await master.shutdown()
        await agent.remove()
        if let failure { throw failure }
    }
}

extension TestMaster {
    /// The `result` messages received from `agentID`, in order.
    func results(from agentID: String) -> [JSONValue] {
        commands.value.filter { $0.routingId == agentID && $0.message["type"] == "result" }.map(\.message)
    }

    /// Sends raw frames (after the routing id) and waits for the agent's next `result`.
    func exchange(_ agentID: String, frames: [[UInt8]], timeout: Duration = .seconds(30)) async throws -> JSONValue {
        let before = results(from: agentID).count
        _ = router.value?.send(ZMQMessage(frames: [connection(of: agentID)] + frames))
        try await waitFor("a result from \(agentID)", timeout: timeout) { self.results(from: agentID).count > before }
        return results(from: agentID)[before]
    }
}
