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
            let envelope: JSONValue = [
                "proto": 1, "type": "heartbeat", "boot_id": .string(JSONString(boot)), "seq": JSONValue(seq),
                "state": ["topology_id": nil],
            ]
            return fleet.heartbeat(agentID: "a", envelope: envelope.objectValue!, now: Int64(seq))
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
}
