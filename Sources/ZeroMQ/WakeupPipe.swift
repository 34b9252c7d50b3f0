#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A self-pipe that wakes a thread blocked in `zmq_poll` (which polls raw file descriptors alongside sockets).
///
/// Any thread may ``signal()``; only the owning thread polls ``readDescriptor`` and calls ``drain()``. Both
/// descriptors are non-blocking and are closed when the last reference goes, so a late signal never writes to a
/// reused descriptor. The stored descriptors never change: that is why the class is `Sendable`.
final class WakeupPipe: Sendable {
    let readDescriptor: Int32
    private let writeDescriptor: Int32

    init() throws(ZMQError) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            let number = errno
            throw ZMQError(
                .resourceExhausted,
                operation: "pipe",
                message: String(cString: strerror(number)),
                errno: number
            )
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readDescriptor = fds[0]
        writeDescriptor = fds[1]
    }

    deinit {
        _ = close(readDescriptor)
        _ = close(writeDescriptor)
    }

    /// Makes the read end readable. A full pipe already wakes the reader, so `EAGAIN` is ignored.
    func signal() {
        var byte: UInt8 = 1
        while write(writeDescriptor, &byte, 1) < 0 && errno == EINTR {}
    }

    /// Empties the pipe after a wake-up.
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(readDescriptor, $0.baseAddress, $0.count) }
            if count > 0 { continue }
            if count < 0 && errno == EINTR { continue }
            return
        }
    }
}
