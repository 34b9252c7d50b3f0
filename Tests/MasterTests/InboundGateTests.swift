import DecnetJSON
import Master
import Testing

/// The identity checks, without sockets.
@Suite("Inbound gate and fleet view")
struct InboundGateTests {
    let gate = InboundGate(
        maxMessageSize: 1024, isAgent: { ["a", "b"].contains($0) }, isMonitor: { $0 == "ops" })

    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func reason(_ result: Result<InboundGate.Admitted, DropReason>) -> DropReason? {
        if case .failure(let reason) = result { return reason }
        return nil
    }

    @Test func commandIdentityComesFromTheUserIdAlone() {
        let hello = bytes(#"{"proto":1,"type":"hello","agent_id":"a"}"#)
        #expect(reason(gate.admitCommand(frames: [bytes("a"), hello], userId: "a")) == nil)
        #expect(reason(gate.admitCommand(frames: [bytes("a"), hello], userId: "b")) == .userIdMismatch)
        #expect(reason(gate.admitCommand(frames: [bytes("a"), hello], userId: nil)) == .noUserId)
        #expect(reason(gate.admitCommand(frames: [bytes("c"), hello], userId: "c")) == .revoked)
        #expect(reason(gate.admitCommand(frames: [bytes("ops"), hello], userId: "ops")) == .monitorKey)
        #expect(reason(gate.admitCommand(frames: [bytes("b"), hello], userId: "b")) == .agentIdMismatch)
        #expect(reason(gate.admitCommand(frames: [bytes("a")], userId: "a")) == .badFrames)
    }

    @Test func envelopesAreCheckedBeforeUse() {
        func check(_ text: String) -> DropReason? {
            reason(gate.admitCommand(frames: [bytes("a"), bytes(text)], userId: "a"))
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
        #expect(check("hb.a", "a") == nil)
        #expect(check("ev.a", "a") == nil)
        #expect(check("hb.b", "a") == .topicMismatch)
        #expect(check("hb.ab", "a") == .topicMismatch)
        #expect(check("xx.a", "a") == .unexpectedType)
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
