import Testing

@testable import ZeroMQ

/// The subscription gate's accounting (docs/security.md#resources). The gate on a real XPUB, cutting a monitor that
/// floods subscriptions, is attacked over CURVE in interop/test_trust_boundaries.py.
@Suite struct SubscriptionGateTests {
    func message(_ flag: UInt8, _ topic: String, key: String? = "K", fd: Int32? = 7) -> ZMQMessage {
        ZMQMessage(frames: [[flag] + Array(topic.utf8)], userId: key, peerAddress: nil, sourceDescriptor: fd)
    }

    @Test func subscriptionsUpToTheKeysLimitAreAdmittedAndTheNextCuts() {
        let gate = SubscriptionGate(perKeyLimit: 3, maxTopicBytes: 16)
        #expect(gate.admit(message(1, "hb.a")).verdict == .subscribe)
        #expect(gate.admit(message(1, "hb.a")).verdict == .ignore, "a repeated topic is held once")
        #expect(gate.admit(message(1, "hb.b", fd: 8)).verdict == .subscribe, "the key's second connection")
        #expect(gate.admit(message(1, "hb.c")).verdict == .subscribe)
        #expect(gate.statistics.held == 3)
        #expect(gate.admit(message(1, "hb.d", fd: 8)).verdict == .cut, "over the key's limit, whichever connection")
        #expect(gate.statistics.refusedOverLimit == 1)
        #expect(gate.statistics.refusedKeys == ["K": 1])
        #expect(gate.statistics.held == 2, "the cut connection's subscriptions are released at once")
        #expect(gate.admit(message(1, "hb.x", key: "other", fd: 9)).verdict == .subscribe, "another key has its own")
    }

    @Test func unsubscribingAndClosingGiveRoomBack() {
        let gate = SubscriptionGate(perKeyLimit: 2, maxTopicBytes: 16)
        #expect(gate.admit(message(1, "a")).verdict == .subscribe)
        #expect(gate.admit(message(1, "b")).verdict == .subscribe)
        #expect(gate.admit(message(0, "a")).verdict == .unsubscribe)
        #expect(gate.admit(message(0, "a")).verdict == .ignore, "nothing held to remove")
        #expect(gate.admit(message(1, "c")).verdict == .subscribe)
        gate.closed(descriptor: 7)
        #expect(gate.statistics.held == 0)
        #expect(gate.admit(message(1, "d")).verdict == .subscribe)
        #expect(gate.admit(message(1, "e")).verdict == .subscribe)
    }

    @Test func aTopicLongerThanAnyRealOneCuts() {
        let gate = SubscriptionGate(perKeyLimit: 10, maxTopicBytes: 4)
        #expect(gate.admit(message(1, "1234")).verdict == .subscribe)
        #expect(gate.admit(message(1, "12345")).verdict == .cut)
        #expect(gate.statistics.refusedTooLong == 1)
    }

    @Test func aReusedDescriptorStartsAfreshForItsNewKey() {
        let gate = SubscriptionGate(perKeyLimit: 1, maxTopicBytes: 16)
        #expect(gate.admit(message(1, "a", key: "old")).verdict == .subscribe)
        // The close event of "old"'s connection has not arrived yet; fd 7 now carries "new".
        #expect(gate.admit(message(1, "a", key: "new")).verdict == .subscribe)
        #expect(gate.statistics.held == 1)
        #expect(gate.admit(message(1, "b", key: "old", fd: 8)).verdict == .subscribe, "old's hold was released")
    }

    @Test func messagesThatAreNoSubscriptionChangeNothing() {
        let gate = SubscriptionGate(perKeyLimit: 1, maxTopicBytes: 16)
        #expect(gate.admit(message(1, "a", fd: nil)).verdict == .ignore, "libzmq's own, for a pipe that is gone")
        #expect(gate.admit(message(2, "a")).verdict == .ignore)
        #expect(
            gate.admit(ZMQMessage(frames: [[1], [2]], userId: "K", peerAddress: nil, sourceDescriptor: 7)).verdict
                == .ignore
        )
        #expect(
            gate.admit(ZMQMessage(frames: [[]], userId: "K", peerAddress: nil, sourceDescriptor: 7)).verdict == .ignore
        )
        #expect(gate.statistics.malformed == 3)
        #expect(gate.statistics.held == 0)
    }
}
