#ifndef DECNET_SECURE_ARENA_H
#define DECNET_SECURE_ARENA_H

#include <stddef.h>
#include <stdint.h>

/// What the arena has done since the process started (docs/scaling.md#handshakes).
typedef struct {
    /// Allocations served from the arena's locked chunks.
    uint64_t arena_allocations;
    /// Allocations too large for a chunk, or made while the arena was full: passed to libsodium.
    uint64_t passed_on;
    /// Chunks handed out and not freed yet.
    uint64_t chunks_in_use;
    /// Chunks the arena holds (in use or free).
    uint64_t chunks_total;
    /// Whether the arena's memory could be locked (`mlock`); when not, it is still zeroed on free.
    int locked;
} decnet_secure_arena_stats_t;

decnet_secure_arena_stats_t decnet_secure_arena_stats(void);

/// The size of one chunk: a request up to this many bytes is served from the arena.
size_t decnet_secure_arena_chunk_size(void);

#endif
