import AgentApplication
import AgentCore
import AgentProtocol
import AgentTransport
import DecnetJSON
import Foundation
import LiveTestSupport
import Logging
import TestSupport
import Testing
import Topology
import ZeroMQ

/// The heartbeat messages themselves, as a master receives them over CURVE, while the private `dockerd` is stopped
/// and after it is back: the real agent daemon over the real Docker runtime, driven by a test master.
@Suite(.serialized, .privateDockerd) struct HeartbeatOutageTests {
    static let agentID = "outage-hb"
    static let interval = 200

    @Test(.timeLimit(.minutes(2)))
    func heartbeatsKeepTheirCadenceAndCarryTheErrorWhileDockerIsDown() async throws {
        let topology = OutageTopology(deckies: 2)
        try await OutageFixture.with(topologyID: topology.id) { f in
            try await Self.withDaemon(f) { master in
                let hash = CanonicalHash.hash(topology.hydrated)
                let applied = try await Self.result(
                    master,
                    [
                        "proto": 1, "type": "apply", "id": "hb-apply", "hydrated": topology.hydrated,
                        "version_hash": .string(JSONString(hash)),
                    ]
                )
                #expect(applied["status"] == 200, "\(applied.jsonText)")
                try await master.waitFor("a heartbeat with the applied topology and no drift") {
                    Self.heartbeats(master).last.map { Self.isHealthy($0, hash: hash) } ?? false
                }

                await f.daemon.stop()
                let stoppedAt = ContinuousClock.now
                let before = Self.heartbeats(master).count
                try await master.waitFor("a heartbeat with observed.error", timeout: .seconds(10)) {
                    Self.heartbeats(master).dropFirst(before).contains { $0["state"]?["observed"]?["error"] != nil }
                }
                print("outage: the first heartbeat with observed.error after \(ContinuousClock.now - stoppedAt)")
                let firstDown = Self.heartbeats(master).count - 1
                try await Task.sleep(for: .milliseconds(2_000))
                let down = Array(Self.heartbeats(master)[firstDown...])

                // Every heartbeat while Docker is down: same boot, seq without gaps, the error, no drift, and the
                // applied topology still recorded.
                #expect(down.count >= 6, "\(down.count) heartbeats in 2 s at one per \(Self.interval) ms")
                let seqs = down.compactMap { $0["seq"]?.intValue }
                #expect(seqs == Array(seqs[0]..<(seqs[0] + down.count)), "seq \(seqs)")
                for beat in down {
                    let state = beat["state"]
                    #expect(beat["type"] == "heartbeat" && beat["agent_id"] == .string(JSONString(Self.agentID)))
                    #expect(beat["interval_ms"]?.intValue == Self.interval)
                    #expect(state?["observed"]?["error"]?.stringValue?.isEmpty == false, "\(state?.jsonText ?? "")")
                    #expect(state?["drift"] == .null, "no drift is invented without an observation")
                    #expect(state?["applied_version_hash"]?.stringValue == hash)
                    #expect(state?["topology_id"]?.stringValue == topology.id)
                }
                // The first names the cut event stream; once the observer tries again, the unreachable socket.
                let lastError = down.last?["state"]?["observed"]?["error"]?.stringValue ?? ""
                #expect(lastError.contains(f.daemon.socketPath), "\(lastError)")
                let topics = Set(Self.published(master).map(\.topic))
                #expect(topics.isSubset(of: ["hb.\(Self.agentID)", "ev.\(Self.agentID)"]), "\(topics)")
                #expect(Self.published(master).allSatisfy { $0.userId == Self.agentID })

                // Requests meanwhile: state answers with the same error; apply is refused as unavailable.
                let state = try await Self.result(master, ["proto": 1, "type": "state", "id": "hb-state"])
                #expect(state["status"] == 200)
                #expect(state["body"]?["observed"]?["error"]?.stringValue?.isEmpty == false)
                let refused = try await Self.result(
                    master,
                    [
                        "proto": 1, "type": "apply", "id": "hb-apply-down", "hydrated": topology.hydrated,
                        "version_hash": .string(JSONString(hash)),
                    ]
                )
                #expect(refused["status"] == 503 && refused["error"]?["code"] == "docker_unavailable")

                try await f.daemon.start()
                let restartedAt = ContinuousClock.now
                // The observer lists again; the heartbeats lose the error and tell what the daemon runs now (the
                // containers come back by their restart policy).
                var lastBeat: JSONValue = .null
                var truth = JSONObject()
                let agreed = try await eventually(within: 30) {
                    guard let beat = Self.heartbeats(master).last, beat["state"]?["observed"]?["error"] == nil else {
                        return false
                    }
                    lastBeat = beat
                    truth = try await truthfulState(f, topology, applied: true)
                    return beat["state"]?["observed"] == truth["observed"] && beat["state"]?["drift"] == truth["drift"]
                }
                #expect(agreed, "heartbeat \(lastBeat.jsonText) differs from \(JSONValue.object(truth).jsonText)")
                print("outage: heartbeats truthful again \(ContinuousClock.now - restartedAt) after dockerd restarted")
                let all = Self.heartbeats(master)
                let allSeqs = all.compactMap { $0["seq"]?.intValue }
                // (The very first may go out before the master's subscription arrives: PUB drops what nobody
                // subscribed to yet.)
                #expect(allSeqs == Array(allSeqs[0]..<(allSeqs[0] + all.count)), "one boot, no heartbeat lost")
                #expect(Set(all.compactMap { $0["boot_id"]?.stringValue }).count == 1)

                let removed = try await Self.result(
                    master,
                    [
                        "proto": 1, "type": "teardown", "id": "hb-teardown",
                        "topology_id": .string(JSONString(topology.id)),
                    ]
                )
                #expect(removed["body"]?["status"] == "torn_down", "\(removed.jsonText)")
                try await master.waitFor("a heartbeat with nothing applied") {
                    Self.heartbeats(master).last?["state"]?["topology_id"] == .null
                }
                try SchemaCheck.check(
                    (down + all.suffix(2)).map {
                        SchemaCheck.Item(schema: "heartbeat.schema.json", message: $0)
                    }
                )
            }
        }
    }

    /// A heartbeat whose state has `hash` applied, an observation without error and no drift at all.
    static func isHealthy(_ beat: JSONValue, hash: String) -> Bool {
        let state = beat["state"]
        guard state?["applied_version_hash"]?.stringValue == hash, state?["observed"]?["error"] == nil,
            let drift = state?["drift"]?.objectValue
        else { return false }
        return drift.members.allSatisfy { $0.1 == [] }
    }

    static func published(_ master: TestMaster) -> [(topic: String, message: JSONValue, userId: String?)] {
        master.published.value
    }

    /// The heartbeats received so far, in arrival order.
    static func heartbeats(_ master: TestMaster) -> [JSONValue] {
        master.published.value.filter { $0.topic == "hb.\(agentID)" }.map(\.message)
    }

    /// Sends one request and waits for its result.
    static func result(_ master: TestMaster, _ request: JSONValue) async throws -> JSONValue {
        let id = request["id"]?.stringValue ?? ""
        master.send(to: agentID, request)
        try await master.waitFor("result of \(id)", timeout: .seconds(60)) {
            master.answers(id: id).contains { $0["type"] == "result" }
        }
        return master.answers(id: id).last { $0["type"] == "result" }!
    }

    /// Runs the agent daemon over `f`'s store and Docker runtime, heartbeating every 200 ms to a test master,
    /// for the duration of `body`.
    static func withDaemon(_ f: OutageFixture, _ body: (TestMaster) async throws -> Void) async throws {
        let master = try await TestMaster()
        let keys = try CurveKeyPair.generate()
        try master.allow(agentID: agentID, keys: keys)
        let settings = AgentSettings(
            agentID: agentID,
            agentVersion: "test",
            bootID: UUID().uuidString.lowercased(),
            stateDirectory: f.directory,
            catalog: try OutageFixture.catalog(),
            templatesRoot: f.directory + "/templates",
            baseImage: OutageFixture.image,
            heartbeatIntervalMillis: interval
        )
        let link = AgentLinkConfiguration(
            agentID: agentID,
            commandEndpoint: master.commandEndpoint.value,
            heartbeatEndpoint: master.heartbeatEndpoint,
            masterKey: master.keys.publicKey,
            keys: keys,
            reconnectMillis: 100,
            reconnectMaxMillis: 500,
            lingerMillis: 0
        )
        var logger = Logger(label: "test.agent")
        logger.logLevel = .critical
        // The fixture's store: the fixture closes it, not the application.
        let app = try await buildAgent(
            configuration: AgentConfiguration(
                settings: settings,
                link: link,
                preflight: PortPreflight(boundPorts: { () throws(ComposeError) in [] })
            ),
            core: AgentCoreParts(
                settings: settings,
                store: f.store,
                runtime: f.runtime,
                preflight: PortPreflight(boundPorts: { () throws(ComposeError) in [] }),
                logger: logger
            ),
            logger: logger
        )
        let pump = Task { await master.pump() }
        let run = Task { try await app.run() }
        let outcome: Result<Void, any Error>
        do {
            try await master.waitFor("hello") {
                master.commands.value.contains { $0.message["type"] == "hello" && $0.routingId == agentID }
            }
            try await body(master)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        run.cancel()
        _ = try? await run.value
        pump.cancel()
        await master.shutdown()
        try outcome.get()
    }
}
