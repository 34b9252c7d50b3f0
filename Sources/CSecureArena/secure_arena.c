// A replacement, inside the master's process, for libsodium's guarded allocator as libzmq uses it.
//
// libzmq 4.3 keeps every CURVE handshake's secrets in memory from `sodium_allocarray` and gives it back with
// `sodium_free`. libsodium serves each such call with fresh pages: `mmap`, guard pages by `mprotect`, `mlock`, and on
// free `munlock`, `mprotect` and `munmap`. Every one of those changes the process's memory map and, on a machine with
// several cores, makes the kernel interrupt every other core running the process to flush its TLB. Measured on the
// master during a reconnection storm, these calls were most of what its I/O thread did: a CURVE handshake cost it
// about 2 ms, the cryptography a small part of that (docs/scaling.md#handshakes).
//
// Defining the two functions here makes the dynamic linker bind libzmq's calls to them (an executable's symbols come
// first). Small requests are served from chunks of a few regions that are mapped and locked once; a chunk is wiped
// before it is reused and when it is freed, so key material is still never swapped out (while `mlock` is allowed)
// and never left behind. What is given up is libsodium's guard pages and canary around each secret, which catch an
// overflow inside the process. Larger requests, and requests once the arena is full, go to libsodium unchanged.

#define _GNU_SOURCE
#include "secure_arena.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK_SIZE 2048
#define CHUNKS_PER_REGION 512          /* 1 MiB a region */
#define MAX_REGIONS 64                 /* 64 MiB at most: 32,768 handshakes at once */

typedef struct chunk {
    struct chunk *next;
} chunk_t;

static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *regions[MAX_REGIONS];
static size_t region_count;
static chunk_t *free_chunks;
static decnet_secure_arena_stats_t stats = {0, 0, 0, 0, 1};

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

void *sodium_malloc(size_t length);
void *sodium_allocarray(size_t count, size_t size);
void sodium_free(void *pointer);

static void resolve(void) {
    real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "sodium_malloc");
    real_free = (void (*)(void *))dlsym(RTLD_NEXT, "sodium_free");
}

/// Writes zeros the compiler may not leave out.
static void wipe(void *pointer, size_t length) {
    volatile unsigned char *bytes = (volatile unsigned char *)pointer;
    while (length--) *bytes++ = 0;
}

/// Maps, locks and threads one more region onto the free list. Called with the lock held.
static int grow(void) {
    if (region_count == MAX_REGIONS) return 0;
    size_t length = (size_t)CHUNK_SIZE * CHUNKS_PER_REGION;
    unsigned char *region = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) return 0;
    if (mlock(region, length) != 0) stats.locked = 0;
    (void)madvise(region, length, MADV_DONTDUMP);
    regions[region_count++] = region;
    for (size_t index = CHUNKS_PER_REGION; index > 0; index--) {
        chunk_t *chunk = (chunk_t *)(region + (index - 1) * CHUNK_SIZE);
        chunk->next = free_chunks;
        free_chunks = chunk;
    }
    stats.chunks_total += CHUNKS_PER_REGION;
    return 1;
}

/// The chunk holding `pointer`, when the arena handed it out. Called with the lock held.
static int owns(const void *pointer) {
    const unsigned char *address = (const unsigned char *)pointer;
    for (size_t index = 0; index < region_count; index++) {
        if (address >= regions[index] && address < regions[index] + (size_t)CHUNK_SIZE * CHUNKS_PER_REGION)
            return 1;
    }
    return 0;
}

static void *take(void) {
    pthread_mutex_lock(&arena_lock);
    if (free_chunks == NULL && !grow()) {
        stats.passed_on++;
        pthread_mutex_unlock(&arena_lock);
        return NULL;
    }
    chunk_t *chunk = free_chunks;
    free_chunks = chunk->next;
    stats.arena_allocations++;
    stats.chunks_in_use++;
    pthread_mutex_unlock(&arena_lock);
    // Freed chunks were wiped; only the free-list link is left to clear.
    wipe(chunk, sizeof(chunk_t));
    return chunk;
}

void *sodium_allocarray(size_t count, size_t size) {
    // libsodium's own sodium_allocarray is this overflow check and sodium_malloc.
    if (count > 0 && size >= SIZE_MAX / count) return NULL;
    return sodium_malloc(count * size);
}

void *sodium_malloc(size_t length) {
    pthread_once(&resolve_once, resolve);
    if (length > 0 && length <= CHUNK_SIZE) {
        void *pointer = take();
        if (pointer) return pointer;
    } else {
        pthread_mutex_lock(&arena_lock);
        stats.passed_on++;
        pthread_mutex_unlock(&arena_lock);
    }
    return real_malloc ? real_malloc(length) : NULL;
}

void sodium_free(void *pointer) {
    if (pointer == NULL) return;
    pthread_once(&resolve_once, resolve);
    pthread_mutex_lock(&arena_lock);
    int ours = owns(pointer);
    pthread_mutex_unlock(&arena_lock);
    if (!ours) {
        if (real_free) real_free(pointer);
        return;
    }
    // Whatever the caller asked for, the whole chunk is wiped: its size is not kept.
    wipe(pointer, CHUNK_SIZE);
    pthread_mutex_lock(&arena_lock);
    chunk_t *chunk = (chunk_t *)pointer;
    chunk->next = free_chunks;
    free_chunks = chunk;
    stats.chunks_in_use--;
    pthread_mutex_unlock(&arena_lock);
}

decnet_secure_arena_stats_t decnet_secure_arena_stats(void) {
    pthread_mutex_lock(&arena_lock);
    decnet_secure_arena_stats_t copy = stats;
    pthread_mutex_unlock(&arena_lock);
    return copy;
}

size_t decnet_secure_arena_chunk_size(void) { return CHUNK_SIZE; }
