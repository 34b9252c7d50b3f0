import CSecureArena

/// The master's allocator for libzmq's CURVE secrets (`Sources/CSecureArena`, docs/scaling.md#handshakes): what it
/// has served, for tests and the logs.
public enum SecureArena {
    public struct Statistics: Sendable, Equatable {
        /// Secrets served from the arena's locked chunks.
        public var arenaAllocations: UInt64
        /// Requests passed on to libsodium (too large, or the arena full).
        public var passedOn: UInt64
        /// Chunks handed out and not freed yet.
        public var chunksInUse: UInt64
        /// Chunks held, in use or free.
        public var chunksTotal: UInt64
        /// Whether the arena's memory is locked against swapping (`mlock` allowed).
        public var locked: Bool
    }

    public static var statistics: Statistics {
        let raw = decnet_secure_arena_stats()
        return Statistics(
            arenaAllocations: raw.arena_allocations,
            passedOn: raw.passed_on,
            chunksInUse: raw.chunks_in_use,
            chunksTotal: raw.chunks_total,
            locked: raw.locked != 0
        )
    }

    /// The largest request served from the arena, in bytes.
    public static var chunkSize: Int { decnet_secure_arena_chunk_size() }
}
