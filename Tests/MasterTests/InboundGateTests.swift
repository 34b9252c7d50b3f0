import AgentProtocol
import DecnetJSON
import Master
import Testing
import ZeroMQ

/// The identity checks, without sockets.
@Suite("Inbound gate and fleet view")
struct InboundGateTests {
    /// User-Ids are keys: "key-a" is agent a's entry, "key-b" agent b's, "key-ops" a monitor's.
    let gate = InboundGate(
        maxMessageSize: 1024,
        agentIdentity: { ["key-a": "a", "key-b": "b"][$0] },
        isMonitor: { $0 == "key-ops" }
    )

    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func reason(_ result: Result<InboundGate.Admitted, DropReason>) -> DropReason? {
        if case .failure(let reason) = result { return reason }
        return nil
    }

    @Test func commandIdentityComesFromTheKeyAlone() throws {
        let hello = bytes(#"{"proto":1,"type":"hello","agent_id":"a"}"#)
        // The routing id is only a connection handle: whatever it says, the key decides.
        let admitted = try gate.admitCommand(frames: [bytes("b"), hello], userId: "key-a").get()
        #expect(admitted.agentID == "a" && admitted.key == "key-a")
        #expect(reason(gate.admitCommand(frames: [[0, 1, 2, 3, 4], hello], userId: "key-a")) == nil)
        #expect(reason(gate.admitCommand(frames: [bytes("a"), hello], userId: "key-b")) == .agentIdMismatch)
        #expect(reason(gate.admitCommand(frames: [bytes("a"), hello], userId: nil)) == .noUserId)
        #expect(reason(gate.admitCommand(frames: [bytes("a"), hello], userId: "key-gone")) == .revoked)
        #expect(reason(gate.admitCommand(frames: [bytes("a"), hello], userId: "key-ops")) == .monitorKey)
        #expect(reason(gate.admitCommand(frames: [bytes("a")], userId: "key-a")) == .badFrames)
    }

    @Test func envelopesAreCheckedBeforeUse() {
        func check(_ text: String) -> DropReason? {
            reason(gate.admitCommand(frames: [bytes("a"), bytes(text)], userId: "key-a"))
        }
        #expect(check("nope") == .garbage)
        #expect(check("[]") == .garbage)
        #expect(check(#"{"type":"hello"}"#) == .garbage)
        #expect(check(#"{"proto":1}"#) == .garbage)
        #expect(check(#"{"proto":2,"type":"hello"}"#) == .unsupportedProto)
        #expect(check(String(repeating: " ", count: 1025)) == .oversize)
        #expect(check(#"{"proto":1,"type":"result","id":"x","unknown":[1]}"#) == nil)
    }

    @Test func publishedTopicsMustNameTheSender() {
        let beat = bytes(#"{"proto":1,"type":"heartbeat"}"#)
        func check(_ topic: String, _ user: String) -> DropReason? {
            if case .failure(let reason) = gate.admitPublished(frames: [bytes(topic), beat], userId: user) {
                return reason
            }
            return nil
        }
        #expect(check("hb.a", "key-a") == nil)
        #expect(check("ev.a", "key-a") == nil)
        #expect(check("hb.b", "key-a") == .topicMismatch)
        #expect(check("hb.ab", "key-a") == .topicMismatch)
        #expect(check("hb.a", "key-gone") == .revoked)
        #expect(check("xx.a", "key-a") == .unexpectedType)
    }

    /// What the heartbeat relay does with each message on the socket thread: relay only an admitted heartbeat that
    /// reads as one, or an event of the three relayed types on the sender's own `ev.` topic.
    @Test func theRelayJudgesEachPublishedMessage() {
        func judge(_ topic: String, _ body: String, _ user: String? = "key-a") -> PublishedMessage {
            let message = ZMQMessage(frames: [bytes(topic), bytes(body)], userId: user, peerAddress: nil)
            return PublishedMessage(message, gate: gate, receivedAt: 7)
        }
        func dropped(_ judged: PublishedMessage) -> DropReason? {
            if case .dropped(let reason) = judged.verdict { return reason }
            return nil
        }
        let beat = JSONValue.object(Self.heartbeat(boot: "b1", seq: 3)).jsonText
        let good = judge("hb.a", beat)
        #expect(good.isRelayed && good.receivedAt == 7)
        #expect(good.origin.userId == "key-a" && good.origin.byteCount == 4 + beat.utf8.count)
        #expect(good.origin.frameCount == 2 && good.origin.firstFrame == bytes("hb.a"))
        if case .heartbeat(let agentID, let heartbeat, let state) = good.verdict {
            #expect(agentID == "a")
            #expect(heartbeat.seq == 3 && heartbeat.bootID == "b1")
            // Not a whole state object: read as none.
            #expect(state == nil)
        } else {
            Issue.record("a good heartbeat was not admitted: \(good.verdict)")
        }
        // The state is read where the message is judged, and its JSON not kept.
        var full = Self.heartbeat(boot: "b1", seq: 4)
        full["state"] = AgentState.idle.jsonValue
        let fullJudged = judge("hb.a", JSONValue.object(full).jsonText)
        if case .heartbeat(_, let heartbeat, let state) = fullJudged.verdict {
            #expect(heartbeat.seq == 4 && state == AgentState.idle && fullJudged.isRelayed)
            #expect(heartbeat.state == .null)
        } else {
            Issue.record("a heartbeat with a state was not admitted: \(fullJudged.verdict)")
        }
        // Admitted by the gate but not a heartbeat the fleet view can read: not relayed.
        #expect(dropped(judge("hb.a", #"{"proto":1,"type":"heartbeat","seq":1}"#)) == .malformed)
        #expect(dropped(judge("hb.a", #"{"proto":1,"type":"result","id":"x"}"#)) == .unexpectedType)
        #expect(dropped(judge("ev.a", beat)) == .unexpectedType)
        #expect(dropped(judge("hb.b", beat)) == .topicMismatch)
        #expect(dropped(judge("hb.a", beat, "key-gone")) == .revoked)
        #expect(dropped(judge("hb.a", beat, nil)) == .noUserId)
        #expect(dropped(judge("hb.a", "{")) == .garbage)
        for type in ["accepted", "progress", "result"] {
            let event = judge("ev.a", #"{"proto":1,"type":"\#(type)","id":"r1"}"#)
            guard case .event(let agentID) = event.verdict else {
                Issue.record("a \(type) event was not relayed: \(event.verdict)")
                continue
            }
            #expect(agentID == "a" && event.isRelayed)
        }
        #expect(!judge("hb.a", beat, "key-ops").isRelayed)
    }

    @Test func heartbeatSequencesCountGapsPerBoot() throws {
        var fleet = FleetView()
        func beat(_ boot: String, _ seq: Int) -> Int? {
            fleet.heartbeat(agentID: "a", envelope: Self.heartbeat(boot: boot, seq: seq), now: Int64(seq))
        }
        #expect(beat("b1", 1) == 0)
        #expect(beat("b1", 2) == 0)
        #expect(beat("b1", 5) == 2)
        #expect(beat("b1", 4) == 0)  // late: out of order, not a gap
        #expect(beat("b2", 2) == 1)  // a new boot starts at 1
        let info = try #require(fleet["a"]?.heartbeat)
        #expect(info.gaps == 3)
        #expect(info.outOfOrder == 1)
        #expect(info.count == 5)
        #expect(info.bootID == "b2")
        let missingMembers = fleet.heartbeat(agentID: "a", envelope: ["proto": 1, "seq": 1], now: 0)
        #expect(missingMembers == nil)
        let helloAccepted = fleet.hello(agentID: "a", envelope: ["proto": 1, "type": "hello"], now: 0)
        #expect(!helloAccepted)
    }

    @Test func theFirstHeartbeatAMasterSeesShowsNothingMissing() throws {
        // A master that (re)started meets agents in the middle of their boot: seq 500 is not 499 lost heartbeats.
        var fleet = FleetView()
        func beat(_ boot: String, _ seq: Int) -> Int? {
            fleet.heartbeat(agentID: "a", envelope: Self.heartbeat(boot: boot, seq: seq), now: Int64(seq))
        }
        #expect(beat("b1", 500) == 0)
        #expect(beat("b1", 502) == 1)
        #expect(beat("b2", 3) == 2, "a new boot seen by the same master: its first two heartbeats were missed")
        #expect(fleet["a"]?.heartbeat?.gaps == 3)
    }

    @Test func anAgentSilentForLongerThanThePolicyIsDisconnectedUntilHeardAgain() throws {
        let policy = SilencePolicy(intervals: 3, slackMillis: 100, beforeFirstHeartbeatMillis: 5_000)
        var fleet = FleetView()
        let hello: JSONObject = ["proto": 1, "type": "hello", "boot_id": "b", "agent_version": "1", "state": [:]]
        func beat(_ seq: Int, at now: Int64) {
            let envelope = Self.heartbeat(boot: "b", seq: seq, intervalMillis: 1000)
            _ = fleet.heartbeat(agentID: "a", envelope: envelope, now: now)
        }
        func silence(_ now: Int64) -> [String] { fleet.silence(now: now) { policy.limit(for: $0) ?? .max } }

        let helloA = fleet.hello(agentID: "a", envelope: hello, now: 0)
        let helloB = fleet.hello(agentID: "b", envelope: hello, now: 0)
        #expect(helloA && helloB)
        #expect(policy.limit(for: fleet["a"]!) == 5_000, "no heartbeat yet: the limit before the first one")
        beat(1, at: 1_000)
        #expect(policy.limit(for: fleet["a"]!) == 3_100, "three intervals of 1 s plus the slack")
        #expect(silence(4_100).isEmpty)
        #expect(silence(4_101) == ["a"])
        #expect(fleet["a"]?.connected == false && fleet["a"]?.disconnectReason == .silent)
        #expect(fleet["a"]?.jsonValue(now: 4_101)["disconnect_reason"] == "silent")
        #expect(silence(5_001) == ["b"], "b never sent a heartbeat: 5 s")
        #expect(silence(9_000).isEmpty, "counted once")

        beat(5, at: 9_000)
        #expect(fleet["a"]?.connected == true && fleet["a"]?.disconnectReason == nil, "a heartbeat connects it again")
        #expect(fleet["a"]?.jsonValue(now: 9_000)["disconnect_reason"] == .null)
        fleet.seen(agentID: "b", now: 9_000)
        #expect(fleet["b"]?.connected == true, "so does an answer")

        // A failed send means the connection is gone: only a hello (a new connection) connects it again.
        fleet.unreachable(agentID: "a")
        #expect(fleet["a"]?.disconnectReason == .sendFailed)
        beat(6, at: 9_500)
        #expect(fleet["a"]?.connected == false)
        #expect(silence(20_000) == ["b"], "a is not connected, so it is not silenced again")
        #expect(fleet["a"]?.disconnectReason == .sendFailed)
        let again = fleet.hello(agentID: "a", envelope: hello, now: 20_000)
        #expect(again)
        #expect(fleet["a"]?.connected == true && fleet["a"]?.disconnectReason == nil)

        let off = SilencePolicy(intervals: 0)
        #expect(off.limit(for: fleet["a"]!) == nil)
    }

    /// The fleet view reads the state object as an ``AgentState``; one without its shape is admitted but kept as
    /// unknown (docs/wire-protocol.md#state).
    @Test func theFleetViewReadsTheStateObjectTyped() throws {
        var fleet = FleetView()
        var state = AgentState.idle
        state.topologyID = "t-1"
        state.appliedVersionHash = "h"
        state.drift = AgentState.Drift(missingContainers: ["c1", "c2"])
        let hello: JSONObject = [
            "proto": 1, "type": "hello", "boot_id": "b", "agent_version": "1", "state": state.jsonValue,
        ]
        let admitted = fleet.hello(agentID: "a", envelope: hello, now: 0)
        #expect(admitted)
        #expect(fleet["a"]?.state == state)
        #expect(fleet["a"]?.topologyID == "t-1" && fleet["a"]?.appliedVersionHash == "h")
        #expect(fleet["a"]?.driftSummary?["missing_containers"] == 2 && fleet["a"]?.observedError == nil)

        // Docker unreachable: observed.error and no drift.
        state.observed = .error("down")
        state.drift = nil
        fleet.state(agentID: "a", state: state.jsonValue, now: 1)
        #expect(fleet["a"]?.observedError == "down" && fleet["a"]?.driftSummary == nil)

        // This heartbeat's state is only {"topology_id": null}: admitted, the state unknown.
        let missing = fleet.heartbeat(agentID: "a", envelope: Self.heartbeat(boot: "b", seq: 1), now: 2)
        #expect(missing == 0)
        #expect(fleet["a"]?.heartbeat?.seq == 1 && fleet["a"]?.state == nil)
        let shown = try #require(fleet["a"]).jsonValue(now: 2)
        #expect(shown["topology_id"] == .null && shown["applied_version_hash"] == .null && shown["drift"] == .null)
    }

    /// A heartbeat envelope with the members the fleet view reads.
    static func heartbeat(boot: String, seq: Int, intervalMillis: Int? = nil) -> JSONObject {
        var envelope: JSONObject = [
            "proto": 1, "type": "heartbeat", "boot_id": .string(JSONString(boot)), "seq": JSONValue(seq),
            "state": ["topology_id": nil],
        ]
        if let intervalMillis { envelope["interval_ms"] = JSONValue(intervalMillis) }
        return envelope
    }
}
