import CZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// An epoll instance for one ``SocketThread``: it waits on the thread's wake-up pipe and on the notification
/// descriptor (`ZMQ_FD`) of each of its sockets, so that a wake-up costs in proportion to what is ready, not to how
/// many sockets the thread serves (`zmq_poll` reads two options of every socket, and polls every descriptor, each
/// time it is called). Used only by the socket thread; created before it starts, so that failing to create it fails
/// ``SocketThread/init(context:name:)``.
final class EventPoller: Sendable {
    let descriptor: Int32

    init() throws(ZMQError) {
        let descriptor = decnet_epoll_create()
        guard descriptor >= 0 else { throw ZMQError.from(errno: errno, operation: "epoll_create1") }
        self.descriptor = descriptor
    }

    deinit {
        _ = close(descriptor)
    }

    /// Reports `fd` readable under `key` (level-triggered).
    func add(_ fd: Int32, key: UInt64) throws(ZMQError) {
        guard decnet_epoll_add(descriptor, fd, key) == 0 else {
            throw ZMQError.from(errno: errno, operation: "epoll_ctl add")
        }
    }

    /// Stops watching `fd` (before its socket is closed, which closes the descriptor).
    func remove(_ fd: Int32) {
        _ = decnet_epoll_remove(descriptor, fd)
    }

    /// Waits up to `timeout` milliseconds (-1: until something is ready) and fills `keys` from the front; returns
    /// how many, or -1 with `errno` set.
    func wait(into keys: inout [UInt64], timeout: Int32) -> Int {
        let capacity = Int32(min(keys.count, 64))
        return Int(
            keys.withUnsafeMutableBufferPointer { decnet_epoll_wait(descriptor, $0.baseAddress, capacity, timeout) }
        )
    }
}
