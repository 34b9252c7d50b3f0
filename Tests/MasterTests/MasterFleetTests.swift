import AgentProtocol
import DecnetJSON
import Foundation
import Master
import TestSupport
import Testing
import ZeroMQ

/// The master against simulated agents over real CURVE sockets on loopback: hello, heartbeats and their relay,
/// requests and their results, re-sends after a reconnect. Every message on the way is checked against schemas/.
@Suite("Master with simulated agents", .serialized)
struct MasterFleetTests {
    @Test func helloRegistersAndHeartbeatsUpdateTheFleetAndReachMonitors() async throws {
        let harness = try MasterHarness()
        try await harness.run { master, endpoints in
            let monitor = try await harness.monitor(endpoints: endpoints)
            let agent = try await harness.agent("agent-a", endpoints: endpoints)
            try await monitor.waitUntilSubscribed()
            agent.hello()
            #expect(await eventually { await master.agent("agent-a")?.connected == true })
            let record = try #require(await master.agent("agent-a"))
            #expect(record.bootID == agent.bootID)
            #expect(record.agentVersion == "0.1.0-sim")
            #expect(record.capabilities == ["apply", "teardown", "state", "ping"])

            try await agent.waitUntilPublishing()
            let hash = String(repeating: "ab", count: 32)
            var state = AgentState.idle
            state.topologyID = "topo-1"
            state.appliedVersionHash = hash
            state.drift = AgentState.Drift(missingContainers: ["decky-002"])
            agent.heartbeat(state: state.jsonValue)
            agent.heartbeat(state: state.jsonValue, skip: 2)  // seq 4: 2 missing
            #expect(await eventually { await master.agent("agent-a")?.heartbeat?.seq == 4 })
            let updated = try #require(await master.agent("agent-a"))
            #expect(updated.state == state)
            #expect(updated.appliedVersionHash == hash)
            #expect(updated.heartbeat?.gaps == 2)
            #expect(updated.driftSummary?["missing_containers"] == 1)

            // The monitor gets both heartbeats, on hb.agent-a, with the agent's envelope verbatim.
            let relayed = await monitor.received.all(count: 2) { $0.string(at: 0) == "hb.agent-a" }
            #expect(relayed.count == 2)
            let sentHeartbeats = agent.sentMessages.filter { $0["type"]?.stringValue == "heartbeat" }
            #expect(relayed.map { try? JSONParser.parse($0.frames[1]) } == sentHeartbeats.map { Optional($0) })

            let fleet = await master.fleet()
            #expect(fleet["counters"]?["heartbeat_gaps"]?.intValue == 2)
            #expect(fleet["counters"]?["relayed"]?["heartbeats"]?.intValue == 2)
            #expect(fleet["agents"]?.arrayValue?.first?["heartbeat"]?["gaps"]?.intValue == 2)
            var items = agent.sentMessages.map { SchemaCheck.wire($0) }
            items += relayed.compactMap { try? JSONParser.parse($0.frames[1]) }.map {
                SchemaCheck.Item(schema: "heartbeat.schema.json", message: $0)
            }
            items.append(SchemaCheck.controlFromMaster(fleet))
            try SchemaCheck.check(items)
            await agent.close()
            await monitor.close()
        }
    }

    /// A heartbeat larger than the relay judges on the socket thread takes the other way (judged off that thread),
    /// and is relayed and booked all the same.
    @Test func aHeartbeatLargerThanTheInlineLimitIsRelayedAndBookedToo() async throws {
        let harness = try MasterHarness()
        var configuration = harness.configuration()
        configuration.maxMessageSize = 4 * 1024 * 1024
        try await harness.run(configuration) { master, endpoints in
            let monitor = try await harness.monitor(endpoints: endpoints)
            let agent = try await harness.agent("agent-b", endpoints: endpoints)
            try await monitor.waitUntilSubscribed()
            agent.hello()
            #expect(await eventually { await master.agent("agent-b")?.connected == true })
            try await agent.waitUntilPublishing()
            var state = AgentState.idle
            state.topologyID = "topo-big"
            state.appliedVersionHash = String(repeating: "cd", count: 32)
            state.drift = AgentState.Drift(missingContainers: (0..<30_000).map { "decky-\($0)-base" })
            let big = state.jsonValue
            #expect(Messages.frame(big).count > HeartbeatRelay.inlineLimit)
            agent.heartbeat(state: big)
            agent.heartbeat(state: big)
            #expect(await eventually { await master.agent("agent-b")?.heartbeat?.count == 2 })
            let record = try #require(await master.agent("agent-b"))
            // Compared by what identifies it: a failed comparison of the whole state would print 30,000 names.
            #expect(record.state?.topologyID == "topo-big")
            #expect(record.state?.drift?.missingContainers.count == 30_000)
            #expect(record.heartbeat?.seq == 2 && record.heartbeat?.gaps == 0)
            let relayed = await monitor.received.all(count: 2) { $0.string(at: 0) == "hb.agent-b" }
            #expect(relayed.count == 2)
            let sent = agent.sentMessages.filter { $0["type"]?.stringValue == "heartbeat" }
            #expect(Set(relayed.compactMap { try? JSONParser.parse($0.frames[1])["seq"]?.intValue }) == [1, 2])
            #expect(relayed.map(\.frames[1]) == sent.map { Messages.frame($0) })
            await agent.close()
            await monitor.close()
        }
    }

    @Test func applyReachesTheAgentByItsRoutingIdAndTheResultComesBack() async throws {
        let harness = try MasterHarness()
        try await harness.run { master, endpoints in
            let a = try await harness.agent("agent-a", endpoints: endpoints)
            let b = try await harness.agent("agent-b", endpoints: endpoints)
            a.hello()
            b.hello()
            #expect(await eventually { await master.agent("agent-b")?.connected == true })
            let hydrated: JSONValue = ["topology_id": "topo-1", "lans": []]
            let apply = ApplyRequest(hydrated: hydrated, versionHash: String(repeating: "0", count: 64))
            let request = OutgoingRequest(id: "req-apply-1", .apply(apply)).jsonValue
            let events = try await master.submit(agentID: "agent-b", request: request, timeout: .seconds(20))
            let incoming = try #require(await b.request(type: "apply"))
            #expect(incoming.envelope == request)
            b.answerApply(incoming.envelope)
            var answers: [JSONObject] = []
            for await event in events {
                switch event {
                case .submitted(let connected): #expect(connected)
                case .answer(let envelope): answers.append(envelope)
                case .failed(let error): Issue.record("request failed: \(error)")
                }
            }
            #expect(answers.map { $0["type"]?.stringValue } == ["accepted", "progress", "result"])
            #expect(try ResultMessage(#require(answers.last)).status == 200)
            // Agent A heard nothing: a ping sent to it afterwards is the first thing it receives (one connection
            // delivers in order).
            let ping = OutgoingRequest(id: "req-ping-a", .ping).jsonValue
            let pinged = try await master.submit(agentID: "agent-a", request: ping, timeout: .seconds(20))
            let witness = try #require(await a.request(type: "ping"))
            #expect(try RequestDecoder().decode(witness.message.frames.last ?? []).get().id == "req-ping-a")
            #expect(a.received.items.count == 1)
            a.send(Messages.result(id: "req-ping-a", body: ["agent_id": "agent-a"]))
            #expect(await Self.kinds(of: pinged) == ["submitted:true", "result"])
            var items = [SchemaCheck.wire(request)] + b.sentMessages.map { SchemaCheck.wire($0, requestType: "apply") }
            items += b.receivedMessages.map { SchemaCheck.wire($0) }
            try SchemaCheck.check(items)
            await a.close()
            await b.close()
        }
    }

    @Test func aRequestIsResentWithTheSameIdWhenTheAgentReconnects() async throws {
        let harness = try MasterHarness()
        try await harness.run(harness.configuration(retry: .seconds(60))) { master, endpoints in
            let first = try await harness.agent("agent-a", endpoints: endpoints, publish: false)
            first.hello()
            #expect(await eventually { await master.agent("agent-a")?.connected == true })
            let request = OutgoingRequest(id: "req-state-1", .state).jsonValue
            let events = try await master.submit(agentID: "agent-a", request: request, timeout: .seconds(30))
            // The first connection gets the request, and dies without answering.
            #expect(await first.request(type: "state") != nil)
            await first.close()
            let second = try await harness.agent("agent-a", endpoints: endpoints, publish: false)
            second.hello()
            let again = try #require(await second.request(type: "state"))
            #expect(try RequestDecoder().decode(again.message.frames.last ?? []).get().id == "req-state-1")
            second.send(Messages.result(id: "req-state-1", body: SimulatedAgent.emptyState))
            var result: JSONObject?
            for await event in events {
                if case .answer(let envelope) = event, envelope["type"]?.stringValue == "result" { result = envelope }
            }
            #expect(try ResultMessage(#require(result)).status == 200)
            #expect(await master.agent("agent-a")?.connections == 2)
            #expect(await master.counters().requestsResent == 1)
            try SchemaCheck.check(
                second.sentMessages.map { SchemaCheck.wire($0, requestType: "state") }
                    + second.receivedMessages.map { SchemaCheck.wire($0) }
            )
            await second.close()
        }
    }

    /// An agent cut off without a word (no FIN, no failed send) is seen gone from its silence alone, its request
    /// waits, and its next heartbeat brings it back and lets the request out. The master's timers run on a manual
    /// clock: 3 x 200 ms + 200 ms of silence is still heard, 1 ms more is silent.
    @Test func anAgentThatFallsSilentIsShownDisconnectedAndItsRequestWaitsUntilItIsHeardAgain() async throws {
        let harness = try MasterHarness()
        var configuration = harness.configuration(retry: .seconds(60))
        configuration.silence = SilencePolicy(intervals: 3, slackMillis: 200, beforeFirstHeartbeatMillis: 20_000)
        let timers = ManualTicks()
        timers.install(&configuration)
        try await harness.run(configuration) { master, endpoints in
            var ticks = timers.ticks.makeAsyncIterator()
            let agent = try await harness.agent("agent-a", endpoints: endpoints)
            agent.hello()
            #expect(await eventually { await master.agent("agent-a")?.connected == true })
            try await agent.waitUntilPublishing()
            agent.heartbeat(intervalMillis: 200)
            #expect(await eventually { await master.agent("agent-a")?.heartbeat?.seq == 1 })
            #expect(await master.agent("agent-a")?.lastSeenAt == 0)

            // Silent only when more than 3 x 200 ms + 200 ms passed since it was last heard (at 0 on this clock),
            // though its connection is still open.
            try await timers.tick(at: 800, &ticks)
            #expect(await master.agent("agent-a")?.connected == true, "silent at exactly the limit")
            try await timers.tick(at: 801, &ticks)
            #expect(await master.agent("agent-a")?.disconnectReason == .silent)
            let fleet = await master.fleet()
            let shown = try #require(fleet["agents"]?.arrayValue?.first)
            #expect(shown["connected"] == false && shown["disconnect_reason"] == "silent")
            #expect(fleet["counters"]?["silent_agents"]?.intValue == 1)
            #expect(fleet["counters"]?["handshakes"]?["command"]?["disconnected"]?.intValue == 0)

            let request = OutgoingRequest(id: "req-ping-silent", .ping).jsonValue
            let events = try await master.submit(agentID: "agent-a", request: request, timeout: .seconds(20))
            // Ticks with the request pending: the master looked, and sent nothing to the silent agent.
            for millis in [802, 900, 5_000] as [Int64] { try await timers.tick(at: millis, &ticks) }
            #expect(await master.counters().requestsSent == 0, "nothing is sent to a silent agent")

            agent.heartbeat(intervalMillis: 200)
            #expect(await eventually { await master.agent("agent-a")?.connected == true })
            try await timers.tick(at: 5_001, &ticks)
            let incoming = try #require(await agent.request(type: "ping"), "heard again: the request goes out")
            #expect(try RequestDecoder().decode(incoming.message.frames.last ?? []).get().id == "req-ping-silent")
            #expect(await master.counters().requestsSent == 1)
            let record = try #require(await master.agent("agent-a"))
            #expect(record.connected && record.disconnectReason == nil && record.connections == 1)
            agent.send(Messages.result(id: "req-ping-silent", body: ["agent_id": "agent-a"]))
            #expect(await Self.kinds(of: events) == ["submitted:false", "result"])
            let after = await master.fleet()
            try SchemaCheck.check([SchemaCheck.controlFromMaster(fleet), SchemaCheck.controlFromMaster(after)])
            await agent.close()
        }
    }

    @Test func aRequestWaitsForAnAgentThatIsNotConnectedAndTimesOut() async throws {
        let harness = try MasterHarness()
        try await harness.run { master, endpoints in
            let request = OutgoingRequest(id: "req-ping-1", .ping).jsonValue
            let events = try await master.submit(agentID: "agent-a", request: request, timeout: .seconds(20))
            try await Task.sleep(for: .milliseconds(300))
            let agent = try await harness.agent("agent-a", endpoints: endpoints, publish: false)
            agent.hello()
            let incoming = try #require(await agent.request(type: "ping"))
            agent.send(
                Messages.result(
                    id: "req-ping-1",
                    body: [
                        "agent_id": "agent-a", "boot_id": .string(JSONString(agent.bootID)),
                        "agent_version": "0.1.0-sim",
                    ]
                )
            )
            #expect(await Self.kinds(of: events) == ["submitted:false", "result"])
            _ = incoming
            // Nobody answers this one: it times out.
            let silent = OutgoingRequest(id: "req-ping-2", .ping).jsonValue
            await #expect(throws: MasterError.self) {
                _ = try await master.perform(agentID: "agent-a", request: silent, timeout: .milliseconds(500))
            }
            #expect(await master.counters().timeouts == 1)
            try SchemaCheck.check(
                agent.sentMessages.map { SchemaCheck.wire($0, requestType: "ping") }
                    + agent.receivedMessages.map { SchemaCheck.wire($0) }
            )
            await agent.close()
        }
    }

    /// Every event of a request until it ends: `submitted:<connected>`, the answer types, `failed:<code>`.
    static func kinds(of events: AsyncStream<RequestEvent>) async -> [String] {
        var kinds: [String] = []
        for await event in events {
            switch event {
            case .submitted(let connected): kinds.append("submitted:\(connected)")
            case .answer(let envelope): kinds.append(envelope["type"]?.stringValue ?? "?")
            case .failed(let error): kinds.append("failed:\(error.code)")
            }
        }
        return kinds
    }
}
