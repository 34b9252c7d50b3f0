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
                let apply = ApplyRequest(hydrated: topology.hydrated, versionHash: hash)
                let applied = try await Self.result(master, OutgoingRequest(id: "hb-apply", .apply(apply)))
                #expect(applied.status == 200, "\(applied.jsonValue.jsonText)")
                try await master.waitFor("a heartbeat with the applied topology and no drift") {
                    Self.decodableHeartbeats(master).last.map { Self.isHealthy($0.state, hash: hash) } ?? false
                }

                await f.daemon.stop()
                let stoppedAt = ContinuousClock.now
                let before = try Self.heartbeats(master).count
                try await master.waitFor("a heartbeat with observed.error", timeout: .seconds(10)) {
                    Self.decodableHeartbeats(master).dropFirst(before).contains { $0.state.observed.error != nil }
                }
                print("outage: the first heartbeat with observed.error after \(ContinuousClock.now - stoppedAt)")
                let firstDown = try Self.heartbeats(master).count - 1
                try await Task.sleep(for: .milliseconds(2_000))
                let down = Array(try Self.heartbeats(master)[firstDown...])

                // Every heartbeat while Docker is down: same boot, seq without gaps, the error, no drift, and the
                // applied topology still recorded.
                #expect(down.count >= 6, "\(down.count) heartbeats in 2 s at one per \(Self.interval) ms")
                let seqs = down.map(\.heartbeat.seq)
                #expect(seqs == Array(seqs[0]..<(seqs[0] + down.count)), "seq \(seqs)")
                for beat in down {
                    let state = beat.state
                    #expect(beat.heartbeat.agentID == Self.agentID)
                    #expect(beat.heartbeat.intervalMillis == Self.interval)
                    #expect(state.observed.error?.isEmpty == false, "\(state.jsonValue.jsonText)")
                    #expect(state.drift == nil, "no drift is invented without an observation")
                    #expect(state.appliedVersionHash == hash)
                    #expect(state.topologyID == topology.id)
                }
                // The first names the cut event stream; once the observer tries again, the unreachable socket.
                let lastError = down.last?.state.observed.error ?? ""
                #expect(lastError.contains(f.daemon.socketPath), "\(lastError)")
                let topics = Set(Self.published(master).map(\.topic))
                #expect(topics.isSubset(of: ["hb.\(Self.agentID)", "ev.\(Self.agentID)"]), "\(topics)")
                #expect(Self.published(master).allSatisfy { $0.userId == Self.agentID })

                // Requests meanwhile: state answers with the same error; apply is refused as unavailable.
                let state = try await Self.result(master, OutgoingRequest(id: "hb-state", .state))
                #expect(state.status == 200)
                let observed = try AgentState(try #require(state.body)).observed
                if case .error(let message) = observed {
                    #expect(!message.isEmpty)
                } else {
                    Issue.record("state observed \(observed) while Docker is down")
                }
                let refused = try await Self.result(master, OutgoingRequest(id: "hb-apply-down", .apply(apply)))
                #expect(refused.status == 503 && refused.error?.code == .dockerUnavailable)

                try await f.daemon.start()
                let restartedAt = ContinuousClock.now
                // The observer lists again; the heartbeats lose the error and tell what the daemon runs now (the
                // containers come back by their restart policy).
                var last: (beat: JSONValue, truth: DockerTruth)?
                let agreed = try await eventually(within: 30) {
                    guard let beat = try Self.heartbeats(master).last, beat.state.observed.error == nil else {
                        return false
                    }
                    let truth = try await truthfulState(f, topology, applied: true)
                    last = (beat.message, truth)
                    return truth.matches(beat.state)
                }
                #expect(
                    agreed,
                    "heartbeat \(last?.beat.jsonText ?? "none") differs from \(last?.truth.description ?? "")"
                )
                print("outage: heartbeats truthful again \(ContinuousClock.now - restartedAt) after dockerd restarted")
                let all = try Self.heartbeats(master)
                let allSeqs = all.map(\.heartbeat.seq)
                // (The very first may go out before the master's subscription arrives: PUB drops what nobody
                // subscribed to yet.)
                #expect(allSeqs == Array(allSeqs[0]..<(allSeqs[0] + all.count)), "one boot, no heartbeat lost")
                #expect(Set(all.map(\.heartbeat.bootID)).count == 1)

                let removed = try await Self.result(
                    master,
                    OutgoingRequest(id: "hb-teardown", .teardown(topologyID: topology.id))
                )
                #expect(removed.body?["status"] == "torn_down", "\(removed.jsonValue.jsonText)")
                try await master.waitFor("a heartbeat with nothing applied") {
                    Self.decodableHeartbeats(master).last.map { $0.state.topologyID == nil } ?? false
                }
                // The schema check reads the heartbeats as they arrived.
                try SchemaCheck.check(
                    (down + all.suffix(2)).map {
                        SchemaCheck.Item(schema: "heartbeat.schema.json", message: $0.message)
                    }
                )
            }
        }
    }

    /// A state with `hash` applied, an observation without error and no drift at all.
    static func isHealthy(_ state: AgentState, hash: String) -> Bool {
        state.appliedVersionHash == hash && state.observed.error == nil && state.drift == AgentState.Drift()
    }

    static func published(_ master: TestMaster) -> [(topic: String, message: JSONValue, userId: String?)] {
        master.published.value
    }

    /// A heartbeat as it arrived (for the schema check), decoded with its state.
    struct Beat {
        var message: JSONValue
        var heartbeat: Heartbeat
        var state: AgentState

        init(_ message: JSONValue) throws {
            guard case .object(let envelope) = message else {
                throw FixtureError("a heartbeat that is not an object: \(message.jsonText.prefix(300))")
            }
            self.message = message
            heartbeat = try Heartbeat(envelope)
            state = try AgentState(heartbeat.state)
        }
    }

    /// The heartbeats received so far, in arrival order; one that does not decode throws.
    static func heartbeats(_ master: TestMaster) throws -> [Beat] {
        try master.published.value.filter { $0.topic == "hb.\(agentID)" }.map { try Beat($0.message) }
    }

    /// The heartbeats received so far, for the waits (which cannot throw): one that does not decode makes the list
    /// empty, so the wait times out, and the strict reads after it throw.
    static func decodableHeartbeats(_ master: TestMaster) -> [Beat] { (try? heartbeats(master)) ?? [] }

    /// Sends `request` and waits for its `result`, decoded.
    static func result(_ master: TestMaster, _ request: OutgoingRequest) async throws -> ResultMessage {
        master.send(to: agentID, request.jsonValue)
        try await master.waitFor("result of \(request.id)", timeout: .seconds(60)) {
            master.answers(id: request.id).contains { $0["type"] == "result" }
        }
        return try ResultMessage(answer: try #require(master.answers(id: request.id).last { $0["type"] == "result" }))
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
