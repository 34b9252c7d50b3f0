import Foundation

/// An exclusive `flock` on `DIR/master.lock`, held while a master serves the directory, so a second master on the
/// same directory refuses to start instead of taking over its control socket.
final class DirectoryLock: Sendable {
    private let descriptor: Int32
    let path: String

    init(path: String) throws(MasterError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw MasterError(.directory, operation: "open \(path)", message: String(cString: strerror(errno)))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let number = errno
            close(fd)
            if number == EWOULDBLOCK {
                throw MasterError(.locked, operation: "lock \(path)", message: "another master serves this directory")
            }
            throw MasterError(.directory, operation: "lock \(path)", message: String(cString: strerror(number)))
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.descriptor = fd
        self.path = path
    }

    deinit {
        close(descriptor)
    }
}
