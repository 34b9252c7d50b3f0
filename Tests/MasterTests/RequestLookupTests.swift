import AgentProtocol
import DecnetJSON
import Foundation
import Master
import MasterStore
import TestSupport
import Testing
import ZeroMQ

/// `request` and `requests` (docs/control-channel.md#request) and the trimming timer
/// (docs/control-channel.md#master-store), against a core with a real store, injected clocks and recording outlets:
/// no sockets, nothing timed.
@Suite("Master request look-ups")
struct RequestLookupTests {
    /// A core over a store in `directory`, its clocks (monotonic and wall, milliseconds) moved by the test, and
    /// every control message it sends.
    final class Rig: Sendable {
        let store: MasterStore
        let core: MasterCore
        let monotonic = Locked<Int64>(1_000)
        let wall = Locked<Int64>(1_765_000_000_000)
        let sent = Locked<[JSONValue]>([])

        init(_ directory: TemporaryDirectory) async throws {
            store = try MasterStore(directory: directory.path, now: 1)
            let monotonic = self.monotonic
            let wall = self.wall
            core = MasterCore(
                gate: InboundGate(maxMessageSize: 1 << 20, agentIdentity: { _ in nil }, isMonitor: { _ in false }),
                retryInterval: .seconds(10),
                logger: MasterHarness.logger,
                clock: { monotonic.value },
                wallClock: { wall.value }
            )
            let sent = self.sent
            await core.attach(
                MasterOutlets(
                    toAgent: { _, _ in false },
                    toControl: { _, frame in
                        sent.withLock { $0.append((try? JSONParser.parse(frame)) ?? .null) }
                        return true
                    }
                ),
                zapStatistics: { (nil, nil) }
            )
        }

        func open() async throws {
            try await core.openDesiredState(store: store, settings: ReconcileSettings())
        }

        /// Sends one control frame and answers the one message the core sent back.
        func ask(_ frame: [UInt8]) async -> JSONValue {
            let before = sent.value.count
            await core.control(ZMQMessage(frames: [Array("client-1".utf8), frame]))
            let after = sent.value
            return after.count == before + 1 ? after[before] : .null
        }

        func ask(_ message: JSONValue) async -> JSONValue { await ask(ControlMessage.frame(message)) }

        func entry(_ agentID: String, _ requestID: String) async -> JSONValue {
            await ask(ControlMessage.requestLookup(agentID: agentID, requestID: requestID))["request"] ?? .null
        }

        func advance(hours: Int64) {
            monotonic.withLock { $0 += hours * 3_600_000 }
            wall.withLock { $0 += hours * 3_600_000 }
        }
    }

    static let hash = String(repeating: "a", count: 64)

    static func stored(
        _ id: String,
        agent: String = "host-1",
        type: String = "apply",
        origin: StoredRequest.Origin = .operator,
        at: Int64,
        deadline: Int64 = 60_000
    ) -> StoredRequest {
        let envelope: JSONValue =
            type == "apply"
            ? [
                "proto": 1, "type": "apply", "id": .string(JSONString(id)), "hydrated": ["topology": ["id": "t-1"]],
                "version_hash": .string(JSONString(hash)), "supersede": false,
            ]
            : ["proto": 1, "type": "teardown", "id": .string(JSONString(id)), "topology_id": "t-0"]
        return StoredRequest(
            agentID: agent,
            requestID: id,
            type: type,
            fingerprint: "fp-\(id)",
            request: Messages.frame(envelope),
            origin: origin,
            createdAt: at,
            deadlineAt: at + deadline
        )
    }

    static func result(_ id: String) -> JSONValue {
        [
            "proto": 1, "type": "result", "id": .string(JSONString(id)), "status": 200,
            "body": ["status": "applied", "version_hash": .string(JSONString(hash))],
        ]
    }

    /// Every outcome the master writes, read back with its status; the store's records survive the core (a
    /// request left open by an earlier master is in flight again, or timed out when its deadline passed).
    @Test func everyOutcomeHasItsStatusAndTheResultVerbatim() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let rig = try await Rig(directory)
        let now = rig.wall.value
        let store = rig.store
        func finish(_ id: String, _ message: JSONValue) throws {
            try store.recordRequest(Self.stored(id, at: now - 10_000), appliedTopologyID: "t-1")
            try store.finish(agentID: "host-1", requestID: id, outcome: ControlMessage.frame(message), at: now - 5_000)
        }
        try finish("m-done", ControlMessage.answer(agentID: "host-1", id: "m-done", message: Self.result("m-done")))
        try finish("m-never", ControlMessage.error(id: "m-never", code: "timeout", message: "never sent", sent: false))
        try finish("m-maybe", ControlMessage.error(id: "m-maybe", code: "timeout", message: "sent", sent: true))
        try finish("m-revoked", ControlMessage.error(id: "m-revoked", code: "revoked", message: "key removed"))
        try finish("m-refused", ControlMessage.error(id: "m-refused", code: "not_enrolled", message: "no key"))
        // Left open by an earlier master: one with time left (carried again), one whose deadline passed meanwhile.
        try store.recordRequest(
            Self.stored("r-open", type: "teardown", origin: .reconcile, at: now - 1_000),
            appliedTopologyID: nil
        )
        try store.recordRequest(Self.stored("m-late", at: now - 120_000), appliedTopologyID: nil)
        try await rig.open()

        let done = await rig.entry("host-1", "m-done")
        #expect(done["status"] == "finished" && done["result"] == Self.result("m-done") && done["error"] == .null)
        #expect(done["type"] == "apply" && done["origin"] == "operator" && done["topology_id"] == "t-1")
        #expect(done["version_hash"]?.stringValue == Self.hash)
        #expect(done["created_at"]?.intValue == Int(now - 10_000) && done["finished_at"]?.intValue == Int(now - 5_000))
        #expect(done["deadline_at"]?.intValue == Int(now + 50_000))
        let never = await rig.entry("host-1", "m-never")
        #expect(never["status"] == "timed_out" && never["error"]?["sent"] == false && never["result"] == .null)
        #expect(await rig.entry("host-1", "m-maybe")["status"] == "unknown")
        #expect(await rig.entry("host-1", "m-revoked")["status"] == "unknown")
        let refused = await rig.entry("host-1", "m-refused")
        #expect(refused["status"] == "refused" && refused["error"]?["code"] == "not_enrolled")
        let open = await rig.entry("host-1", "r-open")
        #expect(open["status"] == "in_flight" && open["origin"] == "reconcile" && open["type"] == "teardown")
        #expect(open["topology_id"] == "t-0" && open["version_hash"] == .null && open["finished_at"] == .null)
        let late = await rig.entry("host-1", "m-late")
        #expect(late["status"] == "unknown" && late["error"]?["code"] == "timeout" && late["error"]?["sent"] == true)

        let listed = await rig.ask(ControlMessage.requestsLookup(agentID: "host-1", limit: nil))
        #expect(listed["agent_id"] == "host-1" && listed["now"]?.intValue == Int(now))
        let ids = listed["requests"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
        #expect(ids?.first == "r-open" && ids?.last == "m-late" && ids?.count == 7)
        #expect(
            await rig.ask(ControlMessage.requestsLookup(agentID: "host-1", limit: 2))["requests"]?.arrayValue?
                .count == 2
        )
        let answers = [
            await rig.ask(ControlMessage.requestLookup(agentID: "host-1", requestID: "m-done")),
            await rig.ask(ControlMessage.requestLookup(agentID: "host-1", requestID: "r-open")), listed,
            await rig.ask(ControlMessage.requestsLookup(agentID: "host-2", limit: 5)),
        ]
        #expect(answers[3]["requests"] == [])
        try SchemaCheck.check(answers.map(SchemaCheck.controlFromMaster))
    }

    /// Bad input gets `bad_request` and changes nothing; an id the store does not hold is `unknown_request`; the
    /// limit is clamped, never refused.
    @Test func badInputIsRefusedAndUnknownIdsNamed() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let rig = try await Rig(directory)
        let now = rig.wall.value
        for index in 0..<3 {
            try rig.store.recordRequest(Self.stored("m-\(index)", at: now + Int64(index)), appliedTopologyID: nil)
        }
        try await rig.open()

        let unknown = await rig.ask(ControlMessage.requestLookup(agentID: "host-1", requestID: "m-9"))
        #expect(unknown["type"] == "control_error" && unknown["id"] == "m-9")
        #expect(unknown["error"]?["code"] == "unknown_request")
        // Ids are per agent: another agent's lookup of the same id is unknown too.
        #expect(
            await rig.ask(ControlMessage.requestLookup(agentID: "host-2", requestID: "m-1"))["error"]?["code"]
                == "unknown_request"
        )
        let malformed: [String] = [
            #"{"proto":1,"type":"request","agent_id":"host-1"}"#,
            #"{"proto":1,"type":"request","id":"m-1"}"#,
            #"{"proto":1,"type":"request","agent_id":"../etc","id":"m-1"}"#,
            #"{"proto":1,"type":"request","agent_id":"host-1","id":"has space"}"#,
            #"{"proto":1,"type":"request","agent_id":"host-1","id":7}"#,
            #"{"proto":1,"type":"requests"}"#,
            #"{"proto":1,"type":"requests","agent_id":["host-1"]}"#,
            #"{"proto":1,"type":"requests","agent_id":"host-1","limit":"5"}"#,
            #"{"proto":1,"type":"requests","agent_id":"host-1","limit":2.5}"#,
        ]
        var refusals: [JSONValue] = [unknown]
        for text in malformed {
            let answer = await rig.ask(Array(text.utf8))
            #expect(answer["type"] == "control_error" && answer["id"] == .null, "\(text)")
            #expect(answer["error"]?["code"] == "bad_request", "\(text)")
            #expect(answer["error"]?["message"]?.stringValue?.isEmpty == false)
            refusals.append(answer)
        }
        try SchemaCheck.check(refusals.map(SchemaCheck.controlFromMaster))
        #expect(try rig.store.summaries(agentID: "host-1", limit: 10).count == 3)
        #expect(await rig.core.currentCounters.controlErrors == malformed.count + 2)

        // Any integer is a limit: clamped into 1...1000.
        for (limit, count) in [("0", 1), ("-3", 1), ("2", 2), ("99999999999999999999999", 3)] {
            let text = #"{"proto":1,"type":"requests","agent_id":"host-1","limit":\#(limit)}"#
            #expect(await rig.ask(Array(text.utf8))["requests"]?.arrayValue?.count == count, "\(limit)")
        }
    }

    /// Finished requests are trimmed at the first tick and then once an hour on the core's clock, by the store's
    /// rule (docs/control-channel.md#master-store): here an agent whose reconcile loop ran 150 times.
    @Test func finishedRequestsAreTrimmedHourlyWhileTheMasterRuns() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let rig = try await Rig(directory)
        let now = rig.wall.value
        func loop(_ count: Int, from start: Int) throws {
            for index in start..<start + count {
                let id = "r-\(index)"
                try rig.store.recordRequest(
                    Self.stored(id, origin: .reconcile, at: now + Int64(index)),
                    appliedTopologyID: nil
                )
                try rig.store.finish(agentID: "host-1", requestID: id, outcome: [], at: now + Int64(index))
            }
        }
        try loop(MasterStore.keepPerAgent + 50, from: 0)
        try await rig.open()
        #expect(try rig.store.summaries(agentID: "host-1", limit: 1_000).count == MasterStore.keepPerAgent + 50)
        await rig.core.tick()
        #expect(try rig.store.summaries(agentID: "host-1", limit: 1_000).count == MasterStore.keepPerAgent)

        // Not an hour yet: ten more stay until the next trim.
        try loop(10, from: 1_000)
        rig.monotonic.withLock { $0 += 3_599_999 }
        await rig.core.tick()
        #expect(try rig.store.summaries(agentID: "host-1", limit: 1_000).count == MasterStore.keepPerAgent + 10)
        rig.monotonic.withLock { $0 += 1 }
        await rig.core.tick()
        let kept = try rig.store.summaries(agentID: "host-1", limit: 1_000).map(\.requestID)
        #expect(kept.count == MasterStore.keepPerAgent && kept.first == "r-1009")

        // A week later the age rule has nothing to add for one agent (the newest 1,000 of all are kept).
        rig.advance(hours: 24 * 8)
        await rig.core.tick()
        #expect(try rig.store.summaries(agentID: "host-1", limit: 1_000).count == MasterStore.keepPerAgent)
    }
}
