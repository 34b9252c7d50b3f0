import AgentProtocol
import DecnetJSON
import Foundation
import Master
import TestSupport
import Testing
import ZeroMQ

/// Identity and robustness on real sockets: only allow-listed CURVE keys get in, identity comes from the ZAP
/// User-Id alone, a revoked key is refused without a restart, bad frames are dropped while the master serves on.
@Suite("Master identity and robustness", .serialized)
struct MasterSecurityTests {
    static func counter(_ fleet: JSONValue, _ path: String...) -> Int {
        var value: JSONValue? = fleet["counters"]
        for key in path { value = value?[key] }
        return value?.intValue ?? -1
    }

    @Test func anAgentPinningTheWrongMasterKeyNeverConnects() async throws {
        let harness = try MasterHarness()
        try await harness.run { master, endpoints in
            let wrong = try CurveKeyPair.generate().publicKey
            let agent = try await harness.agent("agent-a", endpoints: endpoints, masterKey: wrong)
            agent.hello()
            // It had its chance: the master saw its handshake fail (a HELLO sealed for another key cannot be read).
            #expect(
                await eventually(within: 20) {
                    Self.counter(await master.fleet(), "handshakes", "command", "failed_protocol") >= 1
                }
            )
            #expect(await master.agent("agent-a") == nil)
            #expect(!agent.dealerEvents.items.contains { $0.kind == .handshakeSucceeded })
            #expect(Self.counter(await master.fleet(), "handshakes", "command", "succeeded") == 0)
            await agent.close()
        }
    }

    @Test func anUnknownKeyIsRefusedByZAPAndCounted() async throws {
        let harness = try MasterHarness()
        try await harness.run { master, endpoints in
            let stranger = try await harness.agent("agent-a", keys: try CurveKeyPair.generate(), endpoints: endpoints)
            stranger.hello()
            #expect(
                await eventually { Self.counter(await master.fleet(), "handshakes", "command", "failed_auth") >= 1 }
            )
            let fleet = await master.fleet()
            #expect(Self.counter(fleet, "zap", "agents", "denied") >= 1)
            #expect(Self.counter(fleet, "refused_handshakes") >= 1)
            #expect(await master.agent("agent-a") == nil)
            try SchemaCheck.check([SchemaCheck.controlFromMaster(fleet)])
            await stranger.close()
        }
    }

    @Test func aPlainClientIsRefused() async throws {
        let harness = try MasterHarness()
        try await harness.run { master, endpoints in
            let plain = try await harness.agent("agent-a", endpoints: endpoints, plain: true, publish: false)
            plain.hello()
            // Whichever side notices the mechanism mismatch first, the master records a failed handshake: a
            // protocol error, or the connection closing mid-handshake.
            #expect(
                await eventually {
                    let fleet = await master.fleet()
                    return Self.counter(fleet, "handshakes", "command", "failed_protocol")
                        + Self.counter(fleet, "handshakes", "command", "failed_other") >= 1
                }
            )
            let fleet = await master.fleet()
            #expect(Self.counter(fleet, "handshakes", "command", "succeeded") == 0)
            #expect(Self.counter(fleet, "received", "command") == 0)
            #expect(await master.agent("agent-a") == nil)
            #expect(!plain.dealerEvents.items.contains { $0.kind == .handshakeSucceeded })
            await plain.close()
        }
    }

    @Test func aMonitorKeyCannotSpeakOnTheCommandSocket() async throws {
        let harness = try MasterHarness()
        try await harness.run { master, endpoints in
            let monitorAsAgent = try await harness.agent("ops", keys: harness.monitorKeys, endpoints: endpoints)
            monitorAsAgent.hello()
            #expect(await eventually { Self.counter(await master.fleet(), "zap", "agents", "denied") >= 1 })
            #expect(await master.agent("ops") == nil)
            await monitorAsAgent.close()
        }
    }

    @Test func anAgentClaimingAnotherAgentsIdIsDroppedAndCounted() async throws {
        let harness = try MasterHarness()
        try await harness.run { master, endpoints in
            // agent-b's key, agent-a's routing id and hello: the key says agent-b, the envelope agent-a.
            let impostor = try await harness.agent(
                "agent-a",
                keys: harness.agentKeys["agent-b"]!,
                routingID: "agent-a",
                endpoints: endpoints
            )
            impostor.hello()
            #expect(await eventually { (await master.counters()).dropped[.agentIdMismatch] == 1 })
            #expect(await master.agent("agent-a") == nil)
            // agent-b's own routing id but agent-a in the hello: the envelope's agent_id does not match.
            let liar = try await harness.agent(
                "agent-a",
                keys: harness.agentKeys["agent-b"]!,
                routingID: "agent-b",
                endpoints: endpoints
            )
            liar.hello()
            #expect(await eventually { (await master.counters()).dropped[.agentIdMismatch] == 2 })
            #expect(await master.agent("agent-b") == nil)
            // A heartbeat on another agent's topic.
            let b = try await harness.agent("agent-b", endpoints: endpoints)
            try await b.waitUntilPublishing()
            b.heartbeat(topicAgent: "agent-a")
            #expect(await eventually { (await master.counters()).dropped[.topicMismatch] == 1 })
            #expect(await master.agent("agent-a") == nil)
            await impostor.close()
            await liar.close()
            await b.close()
        }
    }

    @Test func aRevokedKeyIsRefusedOnReconnectWithoutARestart() async throws {
        let harness = try MasterHarness()
        try await harness.run { master, endpoints in
            let first = try await harness.agent("agent-a", endpoints: endpoints, publish: false)
            first.hello()
            #expect(await eventually { await master.agent("agent-a")?.connected == true })
            try FileManager.default.removeItem(atPath: harness.directory.file("agents/agent-a.key"))
            try await Task.sleep(for: .milliseconds(300))
            // The live connection's messages are dropped from now on...
            first.hello()
            #expect(await eventually { (await master.counters()).dropped[.revoked] == 1 })
            #expect(await master.agent("agent-a")?.connections == 1)
            // ...and a new connection with the same key is refused at the handshake.
            let deniedBefore = Self.counter(await master.fleet(), "zap", "agents", "denied")
            let second = try await harness.agent("agent-a", endpoints: endpoints, publish: false)
            second.hello()
            #expect(await eventually { Self.counter(await master.fleet(), "zap", "agents", "denied") > deniedBefore })
            #expect(!second.dealerEvents.items.contains { $0.kind == .handshakeSucceeded })
            await first.close()
            await second.close()
        }
    }

    @Test func oversizeAndGarbageFramesAreDroppedWhileTheMasterKeepsServing() async throws {
        let harness = try MasterHarness()
        try await harness.run { master, endpoints in
            let agent = try await harness.agent("agent-a", endpoints: endpoints, publish: false)
            agent.hello()
            #expect(await eventually { await master.agent("agent-a")?.connected == true })
            agent.dealer.send(ZMQMessage("not json {"))
            agent.dealer.send(ZMQMessage("[1, 2]"))
            agent.dealer.send(ZMQMessage(#"{"proto": 7, "type": "hello"}"#))
            agent.dealer.send(ZMQMessage(frames: [Array("{}".utf8), Array("{}".utf8)]))
            agent.send(["proto": 1, "type": "apply", "id": "x"])
            #expect(
                await eventually {
                    let dropped = await master.counters().dropped
                    return dropped[.garbage] == 2 && dropped[.unsupportedProto] == 1 && dropped[.badFrames] == 1
                        && dropped[.unexpectedType] == 1
                }
            )
            // Over ZMQ_MAXMSGSIZE (64 KiB here): libzmq cuts the connection; the agent reconnects.
            agent.dealer.send(ZMQMessage(frames: [[UInt8](repeating: 0x20, count: 70 * 1024)]))
            #expect(
                await eventually { Self.counter(await master.fleet(), "handshakes", "command", "disconnected") >= 1 }
            )
            agent.hello()
            #expect(await eventually { await master.agent("agent-a")?.connections == 2 })
            // Still serving: a request goes through.
            let ping = OutgoingRequest(id: "after-garbage", .ping)
            let events = try await master.submit(agentID: "agent-a", request: ping.jsonValue, timeout: .seconds(20))
            _ = try #require(await agent.request(type: "ping"))
            agent.send(
                Messages.result(
                    id: "after-garbage",
                    body: [
                        "agent_id": "agent-a", "boot_id": .string(JSONString(agent.bootID)),
                        "agent_version": "0.1.0-sim",
                    ]
                )
            )
            var status: Int?
            for await event in events {
                if case .answer(let envelope) = event { status = try ResultMessage(envelope).status }
            }
            #expect(status == 200)
            await agent.close()
        }
    }

    @Test(arguments: ["does nothing", "throws"])
    func theMasterRefusesToStartWithoutItsZAPHandler(_ failure: String) async throws {
        let harness = try MasterHarness()
        defer { harness.directory.remove() }
        var configuration = harness.configuration()
        if failure == "throws" {
            configuration.startZAPHandler = { @Sendable _ throws(ZMQError) in
                throw ZMQError(.zapHandlerMissing, operation: "test", message: "injected")
            }
        } else {
            configuration.startZAPHandler = { @Sendable _ throws(ZMQError) in }
        }
        let server = MasterServer(configuration: configuration, logger: MasterHarness.logger)
        await #expect(throws: MasterError.self) { try await server.run() }
        do {
            _ = try await server.endpoints()
            Issue.record("endpoints() should throw")
        } catch {
            #expect(error.code == .zapHandler)
        }
        // Nothing is left bound: a new master can start on the same directory.
        try await MasterServer.withRunning(harness.configuration(), logger: MasterHarness.logger) { master in
            _ = try await master.endpoints()
        }
    }
}
