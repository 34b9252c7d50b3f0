import Synchronization
import Testing
import ZeroMQ

@testable import AgentTransport

/// Which master key a socket pins next (docs/security.md#master-key-rollover), driven by monitor events alone.
@Suite("Master key ring")
struct MasterKeyRingTests {
    func keys(_ count: Int) throws -> [CurveKey] { try (0..<count).map { _ in try CurveKeyPair.generate().publicKey } }

    @Test func aFailureWithoutDetailMovesOnAndAnAuthRefusalKeepsTheKey() throws {
        let trusted = try keys(2)
        let ring = MasterKeyRing(keys: trusted)
        #expect(ring.current == trusted[0])
        #expect(ring.advanceIfSuspect() == nil)
        // ZAP refused the agent's key: the master key was right.
        ring.observe(.handshakeFailedAuth)
        #expect(ring.advanceIfSuspect() == nil)
        ring.observe(.handshakeFailedNoDetail)
        #expect(ring.advanceIfSuspect() == trusted[1])
        #expect(ring.current == trusted[1])
        // Once per suspicion: the next re-dial keeps the key until it fails again.
        #expect(ring.advanceIfSuspect() == nil)
        ring.observe(.handshakeFailedProtocol)
        ring.observe(.handshakeSucceeded)
        #expect(ring.advanceIfSuspect() == nil)
        ring.observe(.handshakeFailedNoDetail)
        #expect(ring.advanceIfSuspect() == trusted[0])
    }

    @Test func theListIsReadAgainBeforeMovingOn() throws {
        let all = try keys(3)
        let source = Mutex([all[0]])
        let ring = MasterKeyRing(keys: [all[0]]) { source.withLock { $0 } }
        ring.observe(.handshakeFailedNoDetail)
        // One key, and it is the pinned one: nothing to move on to.
        #expect(ring.advanceIfSuspect() == nil)
        source.withLock { $0 = [all[0], all[1]] }
        ring.observe(.handshakeFailedNoDetail)
        #expect(ring.advanceIfSuspect() == all[1])
        // The pinned key left the list: the first of the new list.
        source.withLock { $0 = [all[2], all[0]] }
        ring.observe(.handshakeFailedNoDetail)
        #expect(ring.advanceIfSuspect() == all[2])
        // A list that cannot be read keeps the last one.
        let unreadable = MasterKeyRing(keys: [all[0], all[1]]) { nil }
        unreadable.observe(.handshakeFailedNoDetail)
        #expect(unreadable.advanceIfSuspect() == all[1])
    }
}
