/* LD_PRELOAD shim for scripts/bench-memory.sh: turns the agent's resident-memory trim into no-ops (madvise and
   malloc_trim succeed and do nothing), so the same binary can be measured with and without it. */
#include <stddef.h>

int madvise(void *address, size_t length, int advice) {
    (void)address; (void)length; (void)advice;
    return 0;
}

int malloc_trim(size_t pad) {
    (void)pad;
    return 0;
}
