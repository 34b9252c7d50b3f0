#ifndef DECNET_CZEROMQ_SHIM_H
#define DECNET_CZEROMQ_SHIM_H
#include <zmq.h>
#include <stdint.h>
#include <errno.h>
#include <sys/epoll.h>

/* epoll for the socket thread, behind plain integers: `struct epoll_event` is packed on x86-64, which is best
   kept on the C side. Each registered descriptor carries a 64-bit key, handed back by decnet_epoll_wait. */

static inline int decnet_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

/* Level-triggered readability of `fd`, reported with `key`. */
static inline int decnet_epoll_add(int epfd, int fd, uint64_t key) {
    struct epoll_event event;
    event.events = EPOLLIN;
    event.data.u64 = key;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

static inline int decnet_epoll_remove(int epfd, int fd) {
    struct epoll_event unused;
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &unused);
}

/* Waits up to `timeout` ms (-1: forever) and writes the keys of at most `max` (<= 64) ready descriptors to
   `keys`; returns how many, or -1 with errno set. */
static inline int decnet_epoll_wait(int epfd, uint64_t *keys, int max, int timeout) {
    struct epoll_event events[64];
    if (max > 64) max = 64;
    int count = epoll_wait(epfd, events, max, timeout);
    for (int i = 0; i < count; i++) keys[i] = events[i].data.u64;
    return count;
}
#endif
