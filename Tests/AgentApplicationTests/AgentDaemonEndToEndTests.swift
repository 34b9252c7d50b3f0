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
import Testing
import Topology
import ZeroMQ

/// The real agent daemon over real CURVE sockets on loopback, against a test master and the in-memory runtime.
@Suite("Agent daemon over ZeroMQ", .serialized)
struct AgentDaemonEndToEndTests {
    struct Agent {
        let id: String
        let keys: CurveKeyPair
        let runtime: InMemoryRuntime
        let app: AgentApplication
        let directory: String
        /// What the daemon logged: the witness of what its link saw (a refused handshake, a lost connection).
        let logs: LogCapture

        /// Waits until the daemon logged `message` at `level`.
        func waitForLog(_ level: Logger.Level, _ message: String) async throws {
            guard await eventually(within: 20, { !logs.entries(level, message).isEmpty }) else {
                throw TimedOut(what: "the agent to log \"\(message)\"; it logged \(logs.lines)")
            }
        }

        var store: TopologyStore { app.core.store }
    }

    static func makeAgent(
        _ master: TestMaster,
        id: String = "agent-\(UUID().uuidString.prefix(8).lowercased())",
        allow: Bool = true,
        masterKey: CurveKey? = nil,
        runtime: InMemoryRuntime = InMemoryRuntime()
    ) async throws -> Agent {
        let keys = try CurveKeyPair.generate()
        let logs = LogCapture()
        if allow { try master.allow(agentID: id, keys: keys) }
        let directory = NSTemporaryDirectory() + "agent-e2e-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
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
            commandEndpoint: master.commandEndpoint.value,
            heartbeatEndpoint: master.heartbeatEndpoint,
            masterKey: masterKey ?? master.keys.publicKey,
            keys: keys,
            reconnectMillis: 100,
            reconnectMaxMillis: 500,
            lingerMillis: 0
        )
        let app = try await buildAgent(
            configuration: AgentConfiguration(
                settings: settings,
                link: link,
                // Host ports in use on this shared machine are not this test's business.
                preflight: PortPreflight(boundPorts: { () throws(ComposeError) in [] })
            ),
            runtime: runtime,
            logger: logs.logger("test.agent")
        )
        return Agent(id: id, keys: keys, runtime: runtime, app: app, directory: directory, logs: logs)
    }

    /// Runs `body` with a master pumping messages and an agent daemon running; shuts both down after.
    static func withAgent(
        allow: Bool = true,
        wrongMasterKey: Bool = false,
        _ body: (TestMaster, Agent) async throws -> Void
    ) async throws {
        let master = try await TestMaster()
        let agent = try await makeAgent(
            master,
            allow: allow,
            masterKey: wrongMasterKey ? try CurveKeyPair.generate().publicKey : nil
        )
        let pump = Task { await master.pump() }
        let run = Task { try await agent.app.run() }
        do {
            try await body(master, agent)
        } catch {
            run.cancel()
            _ = try? await run.value
            pump.cancel()
            await master.shutdown()
            await agent.app.close()
            throw error
        }
        run.cancel()
        _ = try? await run.value
        pump.cancel()
        await master.shutdown()
        await agent.app.close()
        try? FileManager.default.removeItem(atPath: agent.directory)
    }

    static let refusedLog =
        "handshake with master failed (wrong master key, or this agent's key is not allowed); backing off"

    static func hello(_ master: TestMaster, _ agent: Agent) -> [TestMaster.Received] {
        master.commands.value.filter { $0.message["type"] == "hello" && $0.routingId == agent.id }
    }

    @Test func helloFirstThenEveryRequestType() async throws {
        try await Self.withAgent { master, agent in
            try await master.waitFor("hello") { !Self.hello(master, agent).isEmpty }
            let received = Self.hello(master, agent)[0]
            #expect(received.userId == agent.id)  // the ZAP User-Id is the certificate's agent-id
            let hello = try Hello(TestMaster.object(received.message))
            #expect(hello.agentID == agent.id)
            #expect(hello.protocols == [1])
            #expect(try AgentState(hello.state).topologyID == nil)
            #expect(master.commands.value.first?.message["type"] == "hello", "the hello comes first")

            master.send(to: agent.id, OutgoingRequest(id: "p1", .ping))
            #expect(try await master.result(of: "p1").body?["agent_id"] == .string(JSONString(agent.id)))

            let t = Topologies.two
            master.send(
                to: agent.id,
                OutgoingRequest(id: "a1", .apply(ApplyRequest(hydrated: t, versionHash: CanonicalHash.hash(t))))
            )
            #expect(try await master.result(of: "a1").status == 200)
            let types = master.types(id: "a1")
            #expect(types.first == "accepted" && types.contains("progress") && types.last == "result")

            master.send(to: agent.id, OutgoingRequest(id: "s1", .state))
            let state = try AgentState(#require(try await master.result(of: "s1").body))
            #expect(state.topologyID == "5d81934e-4a18-580f-bd50-6df4ca24a41a")

            // Events are mirrored to monitors, heartbeats carry the new state.
            try await master.waitFor("heartbeat with state") {
                master.heartbeats.contains {
                    $0.agentID == agent.id
                        && (try? AgentState($0.state))?.topologyID == "5d81934e-4a18-580f-bd50-6df4ca24a41a"
                }
            }
            #expect(master.published.value.contains { $0.topic == "ev.\(agent.id)" && $0.message["id"] == "a1" })
            #expect(master.published.value.allSatisfy { $0.userId == agent.id })

            master.send(
                to: agent.id,
                OutgoingRequest(id: "t1", .teardown(topologyID: "5d81934e-4a18-580f-bd50-6df4ca24a41a"))
            )
            #expect(try await master.result(of: "t1").body?["status"] == "torn_down")
        }
    }

    @Test func everyErrorCodeOverTheWire() async throws {
        try await Self.withAgent { master, agent in
            try await master.waitFor("hello") { !Self.hello(master, agent).isEmpty }
            /// Sends one request and returns its result (long operations one after the other, as a master does).
            func result(_ message: JSONValue) async throws -> ResultMessage {
                let id = message["id"]?.stringValue ?? ""
                let before = master.results(id: id).count
                master.send(to: agent.id, message)
                return try await master.result(of: id, count: before + 1)
            }
            func result(_ request: OutgoingRequest) async throws -> ResultMessage {
                try await result(request.jsonValue)
            }
            func apply(_ id: String, _ t: JSONValue, hash: String? = nil) -> OutgoingRequest {
                OutgoingRequest(id: id, .apply(ApplyRequest(hydrated: t, versionHash: hash ?? CanonicalHash.hash(t))))
            }
            func code(_ r: ResultMessage) -> String? { r.error?.code.rawValue }
            let t = Topologies.two
            let hash = CanonicalHash.hash(t)
            let other = Topologies.renamed(t, id: "other-topology")
            let invalid: JSONValue = ["topology": ["id": "x"], "lans": [], "deckies": [], "edges": []]

            master.sendRaw(to: agent.id, Array("not json".utf8))
            try await master.waitFor("bad_request with id null") {
                master.resultsWithoutID.contains { $0.error?.code == .badRequest }
            }
            #expect(code(try await result(["proto": 2, "type": "state", "id": "e-proto"])) == "unsupported_proto")
            #expect(code(try await result(["proto": 1, "type": "reboot", "id": "e-type"])) == "unknown_type")
            #expect(code(try await result(apply("e-hash", t, hash: "00"))) == "hash_mismatch")
            #expect(code(try await result(apply("e-invalid", invalid))) == "invalid_topology")
            #expect(try await result(apply("ok", t, hash: hash)).status == 200)
            let conflict = try await result(apply("e-conflict", other))
            #expect(code(conflict) == "conflict")
            #expect(conflict.status == 409)
            #expect(code(try await result(OutgoingRequest(id: "ok", .teardown(topologyID: "x")))) == "id_reused")
            agent.runtime.update { $0.unavailable = true }
            let docker = try await result(OutgoingRequest(id: "e-docker", .teardown(topologyID: "x")))
            #expect(code(docker) == "docker_unavailable")
            #expect(docker.status == 503)
            agent.runtime.update { $0.unavailable = false }
            // Over the envelope limit: answered with too_large (id null: the frame is never parsed).
            master.sendRaw(to: agent.id, [UInt8](repeating: 0x20, count: 17 * 1024 * 1024))
            try await master.waitFor("too_large") { master.resultsWithoutID.contains { $0.error?.code == .tooLarge } }
            #expect(try await result(OutgoingRequest(id: "still-alive", .ping)).status == 200)
            // Far over it: libzmq drops it unread (and the connection with it); the agent keeps serving. A ping sent
            // while the connection is being rebuilt is lost, so the master retries it, as a real master would.
            master.sendRaw(to: agent.id, [UInt8](repeating: 0x20, count: 40 * 1024 * 1024))
            try await master.waitFor("a ping answered after the oversize frame", timeout: .seconds(30)) {
                master.send(to: agent.id, OutgoingRequest(id: "after-oversize", .ping))
                return !master.answers(id: "after-oversize").isEmpty
            }
            #expect(master.resultsWithoutID.allSatisfy { [.badRequest, .tooLarge].contains($0.error?.code) })
        }
    }

    @Test func busyAndStateDuringALongApplyAndRetriesExecuteOnce() async throws {
        let runtime = InMemoryRuntime()
        runtime.gate.close()
        let master = try await TestMaster()
        let agent = try await Self.makeAgent(master, runtime: runtime)
        let pump = Task { await master.pump() }
        let run = Task { try await agent.app.run() }
        defer {
            run.cancel()
            pump.cancel()
        }
        try await master.waitFor("hello") { !Self.hello(master, agent).isEmpty }
        let t = Topologies.two
        let apply = OutgoingRequest(id: "long", .apply(ApplyRequest(hydrated: t, versionHash: CanonicalHash.hash(t))))
        master.send(to: agent.id, apply)
        try await master.waitFor("accepted") { master.types(id: "long").contains("accepted") }
        master.send(to: agent.id, OutgoingRequest(id: "during", .state))
        #expect(try await master.result(of: "during").status == 200)
        master.send(to: agent.id, OutgoingRequest(id: "second", .teardown(topologyID: "x")))
        #expect(try await master.result(of: "second").error?.code == .busy)
        // heartbeats show what runs
        try await master.waitFor("running in heartbeat") {
            master.heartbeats.contains { $0.running == RunningRequest(id: "long", type: .apply) }
        }
        master.send(to: agent.id, apply)  // retry while running
        runtime.gate.open()
        #expect(try await master.result(of: "long").status == 200)
        master.send(to: agent.id, apply)  // retry after the result
        _ = try await master.result(of: "long", count: 2)
        #expect(runtime.calls.filter { $0.hasPrefix("materialise") }.count == 1)
        run.cancel()
        _ = try? await run.value
        pump.cancel()
        await master.shutdown()
        await agent.app.close()
    }

    @Test func helloAgainAfterAMasterRestart() async throws {
        try await Self.withAgent { master, agent in
            try await master.waitFor("first hello") { Self.hello(master, agent).count == 1 }
            let endpoint = master.commandEndpoint.value
            await master.closeRouter()
            // The agent saw the master go before it comes back on the same port.
            try await agent.waitForLog(.warning, "master connection lost; reconnecting")
            try await master.openRouter(endpoint: endpoint)
            try await master.waitFor("second hello") { Self.hello(master, agent).count >= 2 }
            let hellos = Self.hello(master, agent)
            #expect(hellos[0].message["boot_id"] == hellos[1].message["boot_id"])
            master.send(to: agent.id, ["proto": 1, "type": "ping", "id": "after-restart"])
            try await master.waitFor("ping after restart") { !master.answers(id: "after-restart").isEmpty }
        }
    }

    @Test func anAgentNotOnTheAllowListNeverGetsThrough() async throws {
        try await Self.withAgent(allow: false) { master, agent in
            // Both sockets had their chance: the master's ZAP handler refused each, and the agent saw the refusal.
            #expect(await eventually(within: 20) { master.zap.statistics.denied >= 2 })
            try await agent.waitForLog(.error, Self.refusedLog)
            #expect(master.commands.value.isEmpty)
            #expect(master.published.value.isEmpty)
        }
    }

    @Test func anAgentPinningTheWrongMasterKeyNeverConnects() async throws {
        try await Self.withAgent(wrongMasterKey: true) { master, agent in
            // The agent dialled and its handshake failed (the master cannot read a HELLO sealed for another key).
            try await agent.waitForLog(.error, Self.refusedLog)
            #expect(master.commands.value.isEmpty)
            #expect(master.published.value.isEmpty)
            #expect(master.zap.statistics.denied == 0 && master.zap.statistics.allowed == 0)
        }
    }
}
