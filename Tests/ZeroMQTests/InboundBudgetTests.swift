import Testing

@testable import ZeroMQ

/// The inbound byte budget's accounting (docs/security.md#resources). The budget on the master's real sockets, under a
/// flood of 16 MiB envelopes, is attacked over CURVE in interop/test_trust_boundaries.py.
@Suite struct InboundBudgetTests {
    func message(_ bytes: Int, key: String, fd: Int32 = 5) -> ZMQMessage {
        ZMQMessage(frames: [[UInt8](repeating: 0, count: bytes)], userId: key, peerAddress: nil, sourceDescriptor: fd)
    }

    @Test func aPeerOverItsOwnLimitIsRefusedAndMarkedForCutting() {
        let budget = InboundBudget(perPeerBytes: 100, totalBytes: 1000)
        #expect(budget.charge(message(60, key: "a")))
        #expect(!budget.charge(message(60, key: "a")))
        #expect(budget.charge(message(60, key: "b")), "another key has its own limit")
        let refusals = budget.takeRefusals()
        #expect(refusals.count == 1)
        #expect(refusals.first?.userId == "a" && refusals.first?.peerOverLimit == true)
        #expect(refusals.first?.sourceDescriptor == 5)
        #expect(budget.takeRefusals().isEmpty, "taken once")
    }

    @Test func releasingGivesTheBytesBack() {
        let budget = InboundBudget(perPeerBytes: 100, totalBytes: 1000)
        let first = message(80, key: "a")
        #expect(budget.charge(first))
        budget.release(first)
        #expect(budget.statistics.waitingBytes == 0)
        #expect(budget.charge(message(90, key: "a")))
    }

    @Test func whenTheSocketIsFullOnlyPeersAboveAnEvenShareAreMarkedForCutting() {
        let budget = InboundBudget(perPeerBytes: 400, totalBytes: 1000)
        // Three heavy keys fill the socket; a light one then cannot get in, but it is not to blame.
        #expect(budget.charge(message(350, key: "h1")))
        #expect(budget.charge(message(350, key: "h2")))
        #expect(budget.charge(message(290, key: "h3")))
        #expect(!budget.charge(message(20, key: "light")))
        #expect(!budget.charge(message(20, key: "h1")))
        let refusals = budget.takeRefusals()
        #expect(refusals.map(\.userId) == ["light", "h1"])
        #expect(refusals.map(\.peerOverLimit) == [false, true], "an even share of 1000 among 4 keys is 250")
        #expect(budget.statistics.refusedMessages == 2 && budget.statistics.refusedBytes == 40)
    }
}
