import CSodium
import Master
import Testing

/// libzmq's CURVE secrets in the master's process come from the arena (docs/scaling.md#handshakes): the interposed
/// allocator is what libzmq really calls, it serves every secret of a handshake, and it gets every chunk back when
/// the connections close.
@Suite(.serialized)
struct SecureArenaTests {
    @Test func curveHandshakesTakeTheirSecretsFromTheArenaAndGiveThemBack() async throws {
        let before = SecureArena.statistics
        let harness = try MasterHarness()
        try await harness.run { master, endpoints in
            let agent = try await harness.agent("agent-a", endpoints: endpoints)
            let monitor = try await harness.monitor(endpoints: endpoints)
            try await monitor.waitUntilSubscribed()
            agent.hello()
            #expect(await eventually { await master.agent("agent-a")?.connected == true })
            let during = SecureArena.statistics
            // Both ends of three handshakes (command, heartbeat, monitor) run in this process.
            #expect(during.arenaAllocations > before.arenaAllocations)
            #expect(during.passedOn == before.passedOn, "a secret too large for a chunk went to libsodium")
            #expect(during.chunksTotal > 0)
            await agent.close()
            await monitor.close()
        }
        // Everything closed and its context terminated: every chunk is free again.
        #expect(await eventually { SecureArena.statistics.chunksInUse == before.chunksInUse })
    }

    @Test func allocationsBeyondAChunkGoToLibsodiumAndComeBackThere() {
        let before = SecureArena.statistics
        let large = SecureArenaProbe.allocate(bytes: SecureArena.chunkSize + 1)
        let small = SecureArenaProbe.allocate(bytes: 32)
        let during = SecureArena.statistics
        #expect(large != nil && small != nil)
        #expect(during.passedOn == before.passedOn + 1)
        #expect(during.arenaAllocations == before.arenaAllocations + 1)
        #expect(during.chunksInUse == before.chunksInUse + 1)
        SecureArenaProbe.free(large)
        SecureArenaProbe.free(small)
        #expect(SecureArena.statistics.chunksInUse == before.chunksInUse)
        #expect(SecureArenaProbe.allocate(count: Int.max, size: 2) == nil)  // overflow refused
    }
}

/// Calls the allocator the way libzmq does (in this process the calls bind to the arena).
enum SecureArenaProbe {
    static func allocate(bytes: Int) -> UnsafeMutableRawPointer? { sodium_allocarray(1, bytes) }
    static func allocate(count: Int, size: Int) -> UnsafeMutableRawPointer? { sodium_allocarray(count, size) }
    static func free(_ pointer: UnsafeMutableRawPointer?) { sodium_free(pointer) }
}
