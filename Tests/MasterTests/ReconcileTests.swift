import AgentProtocol
import DecnetJSON
import Foundation
import Master
import MetricsEndpoint
import Prometheus
import Synchronization
import TestSupport
import Testing
import Topology

/// Desired state and reconcile through a real master (control channel, store, sockets) and a simulated agent
/// (docs/control-channel.md#desired-state, docs/control-channel.md#reconcile).
@Suite("Master reconcile", .serialized)
struct ReconcileTests {
    static let hydrated: JSONValue = ["topology": ["id": "t-1"], "lans": [], "deckies": []]
    static let hash = CanonicalHash.hash(hydrated)

    static func state(_ topology: String?, _ hash: String?, drift: Bool = false) -> JSONValue {
        guard let topology else { return SimulatedAgent.emptyState }
        return [
            "topology_id": .string(JSONString(topology)), "applied_version_hash": hash.map { JSONValue($0) } ?? .null,
            "applied_at": 1, "last_error": nil, "attempt": nil,
            "observed": ["bridges": [], "containers": drift ? [] : ["decky-001"]],
            "drift": [
                "missing_bridges": [], "missing_containers": drift ? ["decky-001"] : [], "stopped_containers": [],
                "unexpected_containers": [],
            ],
        ]
    }

    static func configuration(_ harness: MasterHarness) -> MasterConfiguration {
        var configuration = harness.configuration()
        configuration.reconcile.backoff = .seconds(1)
        configuration.reconcile.backoffMax = .seconds(3)
        configuration.reconcile.driftHeartbeats = 2
        return configuration
    }

    /// The agent's entry in `desired`, after checking the message against its schema.
    static func entry(_ master: MasterServer, _ agentID: String = "agent-a") async throws -> JSONValue {
        let message = await master.desired(agentID: agentID)
        try SchemaCheck.check([SchemaCheck.controlFromMaster(message)])
        return message["agents"]?.arrayValue?.first ?? .null
    }

    /// The agent's entry, unchecked (for polling: a schema check runs a Python process).
    static func peek(_ master: MasterServer, _ agentID: String = "agent-a") async -> JSONValue {
        await master.desired(agentID: agentID)["agents"]?.arrayValue?.first ?? .null
    }

    /// The distinct ids of the requests of `type` the agent received, in the order they first came (re-sends of
    /// one request carry its id again).
    static func ids(_ agent: SimulatedAgent, _ type: String) -> [String] {
        var seen: [String] = []
        for request in received(agent, type) {
            if let id = request["id"]?.stringValue, !seen.contains(id) { seen.append(id) }
        }
        return seen
    }

    /// The first request of `type` with `id`.
    static func request(_ agent: SimulatedAgent, _ type: String, id: String) -> JSONValue {
        received(agent, type).first { $0["id"]?.stringValue == id } ?? .null
    }

    /// Requests of `type` the agent received so far.
    /// Answers the next teardown the agent receives as torn down (`topologyID` in the result).
    static func answerTeardown(_ agent: SimulatedAgent, topologyID: String) -> Task<Void, Never> {
        Task {
            guard let incoming = await agent.request(type: "teardown") else { return }
            agent.send(
                Messages.result(
                    id: incoming.envelope["id"]?.stringValue ?? "",
                    body: [
                        "status": "torn_down", "topology_id": .string(JSONString(topologyID)),
                        "removed": ["containers": [], "bridges": []],
                    ]
                )
            )
        }
    }

    static func received(_ agent: SimulatedAgent, _ type: String) -> [JSONValue] {
        agent.receivedMessages.filter { $0["type"]?.stringValue == type }
    }

    /// The `index`-th request of `type` the agent received, or null.
    static func received(_ agent: SimulatedAgent, _ type: String, _ index: Int) -> JSONValue {
        let all = received(agent, type)
        return index < all.count ? all[index] : .null
    }

    @Test func desireRecordsThenReconcileRestoresBacksOffPausesAndTearsDown() async throws {
        let harness = try MasterHarness()
        let registry = PrometheusCollectorRegistry()
        var configuration = Self.configuration(harness)
        configuration.metrics = MasterMetrics(factory: DescribedPrometheusFactory(registry: registry))
        try await harness.run(configuration) { master, endpoints in
            let client = try await ControlClient.connect(directory: harness.directory.path)
            let agent = try await harness.agent("agent-a", endpoints: endpoints)
            agent.hello()
            try await agent.waitUntilPublishing()
            #expect(await eventually { await master.agent("agent-a")?.connected == true })
            #expect(try await Self.entry(master)["reconcile"]?["state"] == "unmanaged")

            // apply: recorded as desired, then delivered; the agent applies it.
            let apply = OutgoingRequest(
                id: "m-1",
                .apply(ApplyRequest(hydrated: Self.hydrated, versionHash: Self.hash, supersede: false))
            ).jsonValue
            let responder = Task {
                guard let incoming = await agent.request(type: "apply") else { return }
                agent.answerApply(incoming.envelope)
            }
            let result = try await client.submit(
                agentID: "agent-a",
                request: apply,
                timeout: .seconds(20),
                desire: true
            )
            await responder.value
            #expect(result["status"]?.intValue == 200)
            agent.heartbeat(state: Self.state("t-1", Self.hash))
            #expect(await eventually { await Self.peek(master)["in_sync"] == true })
            let entry = try await Self.entry(master)
            #expect(entry["desired"]?["topology_id"] == "t-1")
            #expect(entry["desired"]?["version_hash"]?.stringValue == Self.hash)
            #expect(entry["applied_here"] == ["t-1"])

            // Steady: heartbeats in sync cause no push.
            for _ in 0..<10 {
                agent.heartbeat(state: Self.state("t-1", Self.hash))
                try await Task.sleep(for: .milliseconds(60))
            }
            #expect(Self.ids(agent, "apply").count == 1)

            // Nothing applied any more (the host lost it): the master pushes the stored topology, a new id.
            agent.heartbeat(state: Self.state(nil, nil))
            #expect(await eventually(10) { Self.ids(agent, "apply").count == 2 })
            let pushed = Self.received(agent, "apply", 1)
            #expect(pushed["id"]?.stringValue?.hasPrefix("r-") == true)
            #expect(pushed["version_hash"]?.stringValue == Self.hash)
            #expect(CanonicalHash.hash(pushed["hydrated"] ?? .null) == Self.hash)
            #expect(pushed["supersede"] == false)
            agent.answerApply(pushed)
            agent.heartbeat(state: Self.state("t-1", Self.hash))
            #expect(await eventually { await Self.peek(master)["in_sync"] == true })
            #expect(try await Self.entry(master)["reconcile"]?["pushes"] == 1)

            // An apply that keeps failing backs off, doubling, and says why.
            agent.heartbeat(state: Self.state(nil, nil))
            var times: [ContinuousClock.Instant] = []
            for round in 0..<3 {
                let before = Self.ids(agent, "apply").count
                guard await eventually(10, { Self.ids(agent, "apply").count > before }) else { break }
                times.append(.now)
                let id = Self.ids(agent, "apply")[before]
                agent.send(Messages.failure(id: id, error: AgentError(.runtimeError, "docker said no")))
                #expect(await eventually { await Self.peek(master)["reconcile"]?["state"] == "backing_off" })
                if round == 2 {
                    // Paused while backing off: nothing is pushed; resumed: at once.
                    let paused = try await client.agentAction("pause", agentID: "agent-a")
                    try SchemaCheck.check([SchemaCheck.controlFromMaster(.object(paused))])
                }
                let backingOff = try await Self.entry(master)["reconcile"]
                #expect(backingOff?["last_error"]?.stringValue?.contains("runtime_error") == true)
                #expect(backingOff?["attempts"] == JSONValue(round + 1))
                agent.heartbeat(state: Self.state(nil, nil))
            }
            #expect(times.count == 3)
            if times.count == 3 {
                #expect(times[1] - times[0] >= .milliseconds(990))
                #expect(times[2] - times[1] >= .milliseconds(1990))
            }
            let beforePause = Self.ids(agent, "apply").count
            try await Task.sleep(for: .seconds(4))
            agent.heartbeat(state: Self.state(nil, nil))
            try await Task.sleep(for: .milliseconds(500))
            #expect(Self.ids(agent, "apply").count == beforePause)
            #expect(try await Self.entry(master)["reconcile"]?["state"] == "paused")
            _ = try await client.agentAction("resume", agentID: "agent-a")
            #expect(await eventually(5) { Self.ids(agent, "apply").count == beforePause + 1 })
            agent.answerApply(Self.request(agent, "apply", id: Self.ids(agent, "apply").last ?? ""))
            agent.heartbeat(state: Self.state("t-1", Self.hash))
            #expect(await eventually { await Self.peek(master)["in_sync"] == true })

            #expect(await eventually { await Self.peek(master)["in_sync"] == true })

            // Drift that lasts more than two heartbeats is re-applied.
            let beforeDrift = Self.ids(agent, "apply").count
            agent.heartbeat(state: Self.state("t-1", Self.hash, drift: true))
            agent.heartbeat(state: Self.state("t-1", Self.hash, drift: true))
            try await Task.sleep(for: .milliseconds(300))
            #expect(Self.ids(agent, "apply").count == beforeDrift)
            #expect(try await Self.entry(master)["reconcile"]?["reason"] == "drift")
            agent.heartbeat(state: Self.state("t-1", Self.hash, drift: true))
            #expect(await eventually(5) { Self.ids(agent, "apply").count == beforeDrift + 1 })
            agent.answerApply(Self.request(agent, "apply", id: Self.ids(agent, "apply").last ?? ""))
            agent.heartbeat(state: Self.state("t-1", Self.hash))
            #expect(await eventually { await Self.peek(master)["in_sync"] == true })

            // teardown: "none" recorded; the topology the master applied is torn down again when it reappears, a
            // foreign one is never touched.
            let teardown = OutgoingRequest(id: "m-2", .teardown(topologyID: "t-1")).jsonValue
            let tearer = Self.answerTeardown(agent, topologyID: "t-1")
            _ = try await client.submit(agentID: "agent-a", request: teardown, timeout: .seconds(20), desire: true)
            await tearer.value
            agent.heartbeat(state: Self.state(nil, nil))
            #expect(await eventually { await Self.peek(master)["in_sync"] == true })
            #expect(try await Self.entry(master)["desired"]?["topology_id"] == .null)
            agent.heartbeat(state: Self.state("t-1", Self.hash))
            #expect(await eventually(5) { Self.received(agent, "teardown").count == 2 })
            #expect(Self.received(agent, "teardown", 1)["topology_id"] == "t-1")
            agent.send(
                Messages.result(
                    id: Self.received(agent, "teardown", 1)["id"]?.stringValue ?? "",
                    body: ["status": "torn_down", "topology_id": "t-1", "removed": ["containers": [], "bridges": []]]
                )
            )
            agent.heartbeat(state: Self.state("foreign", Self.hash))
            try await Task.sleep(for: .seconds(1))
            #expect(Self.received(agent, "teardown").count == 2)
            #expect(try await Self.entry(master)["reconcile"]?["reason"] == "foreign_topology")

            // forget: the agent is unmanaged again; nothing is sent to it.
            let forgotten = try await client.agentAction("forget", agentID: "agent-a")
            #expect(forgotten["agents"]?.arrayValue?.first?["desired"] == .null)
            #expect(try await Self.entry(master)["reconcile"]?["state"] == "unmanaged")

            // Every fleet snapshot carries the reconcile state, and still validates.
            let fleet = try await client.fleet()
            try SchemaCheck.check([SchemaCheck.controlFromMaster(.object(fleet))])
            #expect(fleet["agents"]?.arrayValue?.first?["reconcile"]?["state"] == "unmanaged")

            // The pushes above, by the reason the loop saw (docs/metrics.md): the restore, three failing tries and
            // the one after resume; the drift; the teardown of the topology that reappeared. The two desires were
            // the operator's, not the loop's.
            let exposition = String(decoding: registry.emitToBuffer(), as: UTF8.self)
            for (reason, count) in [("nothing_applied", 5), ("drift", 1), ("teardown_due", 1), ("hash_mismatch", 0)] {
                #expect(
                    exposition.contains("decnet_master_reconcile_pushes_total{reason=\"\(reason)\"} \(count)\n"),
                    "\(reason)"
                )
            }
            await client.close()
            await agent.close()
        }
    }

    /// docs/control-channel.md#desired: `forget` drops the desired state but not `applied_here`. A later desire of
    /// "none" still tears down the topology the master put there before the forget; and `requests` shows the
    /// operator what the loop did.
    @Test func forgetKeepsWhatTheMasterAppliedThere() async throws {
        let harness = try MasterHarness()
        try await harness.run(Self.configuration(harness)) { master, endpoints in
            let client = try await ControlClient.connect(directory: harness.directory.path)
            let agent = try await harness.agent("agent-a", endpoints: endpoints)
            agent.hello()
            try await agent.waitUntilPublishing()
            #expect(await eventually { await master.agent("agent-a")?.connected == true })
            let apply = OutgoingRequest(
                id: "m-1",
                .apply(ApplyRequest(hydrated: Self.hydrated, versionHash: Self.hash, supersede: false))
            ).jsonValue
            let responder = Task {
                guard let incoming = await agent.request(type: "apply") else { return }
                agent.answerApply(incoming.envelope)
            }
            _ = try await client.submit(agentID: "agent-a", request: apply, timeout: .seconds(20), desire: true)
            await responder.value
            agent.heartbeat(state: Self.state("t-1", Self.hash))
            #expect(await eventually { await Self.peek(master)["in_sync"] == true })

            // forget: unmanaged, nothing sent, but the master still knows it put t-1 there.
            let forgotten = try await client.agentAction("forget", agentID: "agent-a")
            try SchemaCheck.check([SchemaCheck.controlFromMaster(.object(forgotten))])
            let entry = forgotten["agents"]?.arrayValue?.first
            #expect(entry?["desired"] == .null && entry?["applied_here"] == ["t-1"])
            #expect(entry?["reconcile"]?["state"] == "unmanaged")
            agent.heartbeat(state: Self.state("t-1", Self.hash))

            // A teardown desire for another topology sets "none": t-1, still running, is torn down by the loop.
            let teardown = OutgoingRequest(id: "m-2", .teardown(topologyID: "t-2")).jsonValue
            let tearer = Self.answerTeardown(agent, topologyID: "t-2")
            _ = try await client.submit(agentID: "agent-a", request: teardown, timeout: .seconds(20), desire: true)
            await tearer.value
            agent.heartbeat(state: Self.state("t-1", Self.hash))
            #expect(await eventually(5) { Self.received(agent, "teardown").count == 2 })
            let pushed = Self.received(agent, "teardown", 1)
            #expect(pushed["topology_id"] == "t-1" && pushed["id"]?.stringValue?.hasPrefix("r-") == true)
            let pushedID = pushed["id"]?.stringValue ?? ""
            agent.send(
                Messages.result(
                    id: pushedID,
                    body: ["status": "torn_down", "topology_id": "t-1", "removed": ["containers": [], "bridges": []]]
                )
            )
            agent.heartbeat(state: Self.state(nil, nil))
            #expect(await eventually { await Self.peek(master)["in_sync"] == true })

            // The operator sees it: the loop's teardown first, finished, then the two desires.
            #expect(
                await eventually {
                    let listed = try? await client.requests(agentID: "agent-a")
                    return listed?["requests"]?.arrayValue?.first?["status"] == "finished"
                }
            )
            let listed = try await client.requests(agentID: "agent-a")
            let requests = listed["requests"]?.arrayValue ?? []
            #expect(requests.map { $0["id"]?.stringValue ?? "" } == [pushedID, "m-2", "m-1"])
            #expect(requests.first?["origin"] == "reconcile" && requests.first?["topology_id"] == "t-1")
            #expect(requests.first?["result"]?["body"]?["topology_id"] == "t-1")
            #expect(requests.dropFirst().allSatisfy { $0["origin"] == "operator" && $0["status"] == "finished" })
            let one = try await client.request(agentID: "agent-a", requestID: pushedID)
            #expect(one["request"] == requests.first)
            do throws(MasterError) {
                _ = try await client.request(agentID: "agent-a", requestID: "m-404")
                Issue.record("an unknown id was found")
            } catch {
                #expect(error.code == .unknownRequest)
            }
            try SchemaCheck.check([.object(listed), .object(one)].map(SchemaCheck.controlFromMaster))
            await client.close()
            await agent.close()
        }
    }

    @Test func desireRefusesAMismatchedHashAndRecordsNothing() async throws {
        let harness = try MasterHarness()
        try await harness.run(Self.configuration(harness)) { master, endpoints in
            let client = try await ControlClient.connect(directory: harness.directory.path)
            let wrong = OutgoingRequest(
                id: "m-9",
                .apply(
                    ApplyRequest(
                        hydrated: Self.hydrated,
                        versionHash: String(repeating: "0", count: 64),
                        supersede: false
                    )
                )
            ).jsonValue
            do throws(MasterError) {
                _ = try await client.submit(agentID: "agent-a", request: wrong, timeout: .seconds(5), desire: true)
                Issue.record("a mismatched hash was accepted")
            } catch {
                #expect(error.code.rawValue == "hash_mismatch")
            }
            let ping: JSONValue = ["proto": 1, "type": "ping", "id": "m-10"]
            do throws(MasterError) {
                _ = try await client.submit(agentID: "agent-a", request: ping, timeout: .seconds(5), desire: true)
                Issue.record("a ping was accepted as a desire")
            } catch {
                #expect(error.code == .badRequest)
            }
            #expect(try await Self.entry(master)["desired"] == .null)
            await client.close()
        }
    }

    /// A master stopped while an apply it recorded is in flight: the next master on the same directory still knows
    /// the request, re-sends it (same id) when the agent says hello, and answers the client's re-sent desire.
    @Test func aRecordedRequestOutlivesTheMaster() async throws {
        let harness = try MasterHarness()
        defer { harness.directory.remove() }
        let apply = OutgoingRequest(
            id: "m-restart",
            .apply(ApplyRequest(hydrated: Self.hydrated, versionHash: Self.hash, supersede: false))
        ).jsonValue
        let first = Locked<(ControlClient, Task<JSONObject?, Never>)?>(nil)
        try await MasterServer.withRunning(Self.configuration(harness), logger: MasterHarness.logger) { master in
            let endpoints = try await master.endpoints()
            let agent = try await harness.agent("agent-a", endpoints: endpoints)
            agent.hello()
            #expect(await eventually { await master.agent("agent-a")?.connected == true })
            let client = try await ControlClient.connect(directory: harness.directory.path)
            let waiting = Task {
                try? await client.submit(agentID: "agent-a", request: apply, timeout: .seconds(60), desire: true)
            }
            first.withLock { $0 = (client, waiting) }
            // The agent has the request and never answers: the master stops with it in flight.
            #expect(await agent.request(type: "apply") != nil)
            await agent.close()
        }
        if let (client, waiting) = first.value {
            #expect(await waiting.value == nil)
            await client.close()
        }
        try await MasterServer.withRunning(Self.configuration(harness), logger: MasterHarness.logger) { master in
            let endpoints = try await master.endpoints()
            let entry = try await Self.entry(master)
            #expect(entry["desired"]?["request_id"] == "m-restart")
            #expect(entry["reconcile"]?["state"] == "pushing")
            let agent = try await harness.agent("agent-a", endpoints: endpoints)
            agent.hello()
            guard let again = await agent.request(type: "apply") else {
                Issue.record("the restarted master did not re-send the request")
                return
            }
            #expect(again.envelope["id"] == "m-restart")
            agent.answerApply(again.envelope)
            agent.hello(state: Self.state("t-1", Self.hash))
            let client = try await ControlClient.connect(directory: harness.directory.path)
            let result = try await client.submit(
                agentID: "agent-a",
                request: apply,
                timeout: .seconds(10),
                desire: true
            )
            #expect(result["status"]?.intValue == 200)
            #expect(result["id"] == "m-restart")
            #expect(Self.ids(agent, "apply").count == 1)
            await client.close()
            await agent.close()
        }
    }
}
