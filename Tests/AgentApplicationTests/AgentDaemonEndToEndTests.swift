import AgentApplication
import AgentCore
import AgentProtocol
import AgentStore
import AgentTransport
import DecnetJSON
import Foundation
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
            logger: Logger(label: "test.agent")
        )
        return Agent(id: id, keys: keys, runtime: runtime, app: app, directory: directory)
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

    static func hello(_ master: TestMaster, _ agent: Agent) -> [TestMaster.Received] {
        master.commands.value.filter { $0.message["type"] == "hello" && $0.routingId == agent.id }
    }

    @Test func helloFirstThenEveryRequestType() async throws {
        try await Self.withAgent { master, agent in
            try await master.waitFor("hello") { !Self.hello(master, agent).isEmpty }
            let hello = Self.hello(master, agent)[0]
            #expect(hello.userId == agent.id)  // the ZAP User-Id is the certificate's agent-id
            #expect(hello.message["agent_id"] == .string(JSONString(agent.id)))
            #expect(hello.message["protocols"] == [1])
            #expect(hello.message["state"]?["topology_id"] == .null)
            #expect(master.commands.value.first?.message["type"] == "hello")

            master.send(to: agent.id, ["proto": 1, "type": "ping", "id": "p1"])
            try await master.waitFor("ping") { !master.answers(id: "p1").isEmpty }
            #expect(master.answers(id: "p1")[0]["body"]?["agent_id"] == .string(JSONString(agent.id)))

            let t = Topologies.two
            master.send(
                to: agent.id,
                [
                    "proto": 1, "type": "apply", "id": "a1", "hydrated": t,
                    "version_hash": .string(JSONString(CanonicalHash.hash(t))),
                ]
            )
            try await master.waitFor("apply result") { master.answers(id: "a1").contains { $0["type"] == "result" } }
            let answers = master.answers(id: "a1")
            #expect(answers.first?["type"] == "accepted")
            #expect(answers.last?["status"] == 200)
            #expect(answers.contains { $0["type"] == "progress" })

            master.send(to: agent.id, ["proto": 1, "type": "state", "id": "s1"])
            try await master.waitFor("state") { !master.answers(id: "s1").isEmpty }
            #expect(master.answers(id: "s1")[0]["body"]?["topology_id"] == "5d81934e-4a18-580f-bd50-6df4ca24a41a")

            // Events are mirrored to monitors, heartbeats carry the new state.
            try await master.waitFor("heartbeat with state") {
                master.published.value.contains {
                    $0.topic == "hb.\(agent.id)"
                        && $0.message["state"]?["topology_id"] == "5d81934e-4a18-580f-bd50-6df4ca24a41a"
                }
            }
            #expect(master.published.value.contains { $0.topic == "ev.\(agent.id)" && $0.message["id"] == "a1" })
            #expect(master.published.value.allSatisfy { $0.userId == agent.id })

            master.send(
                to: agent.id,
                ["proto": 1, "type": "teardown", "id": "t1", "topology_id": "5d81934e-4a18-580f-bd50-6df4ca24a41a"]
            )
            try await master.waitFor("teardown") { master.answers(id: "t1").contains { $0["type"] == "result" } }
            #expect(master.answers(id: "t1").last?["body"]?["status"] == "torn_down")
        }
    }

    @Test func everyErrorCodeOverTheWire() async throws {
        try await Self.withAgent { master, agent in
            try await master.waitFor("hello") { !Self.hello(master, agent).isEmpty }
            /// Sends one request and returns its result (long operations one after the other, as a master does).
            func result(_ message: JSONValue) async throws -> JSONValue {
                let id = message["id"]?.stringValue ?? ""
                let before = master.answers(id: id).filter { $0["type"] == "result" }.count
                master.send(to: agent.id, message)
                try await master.waitFor("result of \(id)") {
                    master.answers(id: id).filter { $0["type"] == "result" }.count > before
                }
                return master.answers(id: id).last { $0["type"] == "result" }!
            }
            func code(_ r: JSONValue) -> String? { r["error"]?["code"]?.stringValue }
            let t = Topologies.two
            let hash = CanonicalHash.hash(t)
            let other = Topologies.renamed(t, id: "other-topology")
            let invalid: JSONValue = ["topology": ["id": "x"], "lans": [], "deckies": [], "edges": []]

            master.sendRaw(to: agent.id, Array("not json".utf8))
            try await master.waitFor("bad_request with id null") {
                master.commands.value.contains {
                    $0.message["id"] == .null && $0.message["error"]?["code"] == "bad_request"
                }
            }
            #expect(code(try await result(["proto": 2, "type": "state", "id": "e-proto"])) == "unsupported_proto")
            #expect(code(try await result(["proto": 1, "type": "reboot", "id": "e-type"])) == "unknown_type")
            #expect(
                code(
                    try await result(["proto": 1, "type": "apply", "id": "e-hash", "hydrated": t, "version_hash": "00"])
                ) == "hash_mismatch"
            )
            #expect(
                code(
                    try await result([
                        "proto": 1, "type": "apply", "id": "e-invalid", "hydrated": invalid,
                        "version_hash": .string(JSONString(CanonicalHash.hash(invalid))),
                    ])
                ) == "invalid_topology"
            )
            #expect(
                try await result([
                    "proto": 1, "type": "apply", "id": "ok", "hydrated": t, "version_hash": .string(JSONString(hash)),
                ])["status"] == 200
            )
            let conflict = try await result([
                "proto": 1, "type": "apply", "id": "e-conflict", "hydrated": other,
                "version_hash": .string(JSONString(CanonicalHash.hash(other))),
            ])
            #expect(code(conflict) == "conflict")
            #expect(conflict["status"] == 409)
            #expect(
                code(try await result(["proto": 1, "type": "teardown", "id": "ok", "topology_id": "x"])) == "id_reused"
            )
            agent.runtime.update { $0.unavailable = true }
            let docker = try await result(["proto": 1, "type": "teardown", "id": "e-docker", "topology_id": "x"])
            #expect(code(docker) == "docker_unavailable")
            #expect(docker["status"] == 503)
            agent.runtime.update { $0.unavailable = false }
            // Over the envelope limit: answered with too_large (id null: the frame is never parsed).
            master.sendRaw(to: agent.id, [UInt8](repeating: 0x20, count: 17 * 1024 * 1024))
            try await master.waitFor("too_large") {
                master.commands.value.contains { $0.message["error"]?["code"] == "too_large" }
            }
            #expect(try await result(["proto": 1, "type": "ping", "id": "still-alive"])["status"] == 200)
            // Far over it: libzmq drops it unread (and the connection with it); the agent keeps serving. A ping sent
            // while the connection is being rebuilt is lost, so the master retries it, as a real master would.
            master.sendRaw(to: agent.id, [UInt8](repeating: 0x20, count: 40 * 1024 * 1024))
            try await master.waitFor("a ping answered after the oversize frame", timeout: .seconds(30)) {
                master.send(to: agent.id, ["proto": 1, "type": "ping", "id": "after-oversize"])
                return !master.answers(id: "after-oversize").isEmpty
            }
            #expect(
                !master.commands.value.contains {
                    $0.message["id"] == .null && $0.message["error"]?["code"] != "bad_request"
                        && $0.message["error"]?["code"] != "too_large"
                }
            )
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
        let apply: JSONValue = [
            "proto": 1, "type": "apply", "id": "long", "hydrated": t,
            "version_hash": .string(JSONString(CanonicalHash.hash(t))),
        ]
        master.send(to: agent.id, apply)
        try await master.waitFor("accepted") { master.answers(id: "long").contains { $0["type"] == "accepted" } }
        master.send(to: agent.id, ["proto": 1, "type": "state", "id": "during"])
        try await master.waitFor("state during apply") { !master.answers(id: "during").isEmpty }
        master.send(to: agent.id, ["proto": 1, "type": "teardown", "id": "second", "topology_id": "x"])
        try await master.waitFor("busy") { master.answers(id: "second").contains { $0["error"]?["code"] == "busy" } }
        // heartbeats show what runs
        try await master.waitFor("running in heartbeat") {
            master.published.value.contains { $0.message["running"]?["id"] == "long" }
        }
        master.send(to: agent.id, apply)  // retry while running
        runtime.gate.open()
        try await master.waitFor("result") { master.answers(id: "long").contains { $0["type"] == "result" } }
        master.send(to: agent.id, apply)  // retry after the result
        try await master.waitFor("second result") {
            master.answers(id: "long").filter { $0["type"] == "result" }.count == 2
        }
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
            try await Task.sleep(for: .milliseconds(300))
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
            try await Task.sleep(for: .seconds(1))
            #expect(master.commands.value.isEmpty)
            #expect(master.published.value.isEmpty)
            #expect(master.zap.statistics.denied > 0)
        }
    }

    @Test func anAgentPinningTheWrongMasterKeyNeverConnects() async throws {
        try await Self.withAgent(wrongMasterKey: true) { master, _ in
            try await Task.sleep(for: .seconds(1))
            #expect(master.commands.value.isEmpty)
            #expect(master.published.value.isEmpty)
        }
    }
}
