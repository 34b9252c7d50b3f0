#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on one lock file, held for as long as the value lives: the one lock of the project, used by
/// the agent for its state folder (`agent.lock`: one agent process at a time) and by the master for its directory
/// (`master.lock`: a second master refuses to start instead of taking over the control socket).
public final class DirectoryLock: Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// Another process holds the lock.
        case busy(path: String)
        /// The lock file could not be opened or created.
        case unopenable(path: String, errno: Int32)
        /// `flock` failed for a reason other than another holder.
        case unlockable(path: String, errno: Int32)

        public var description: String {
            switch self {
            case .busy(let path): return "\(path) is locked by another process"
            case .unopenable(let path, let code): return "cannot open \(path): \(String(cString: strerror(code)))"
            case .unlockable(let path, let code): return "cannot lock \(path): \(String(cString: strerror(code)))"
            }
        }
    }

    private let descriptor: Int32
    public let path: String

    /// Opens (creating it with mode 0600) and locks `path`; with `recordingPID`, the file then holds this process's id,
    /// for an operator wondering who holds it.
    public init(path: String, recordingPID: Bool = false) throws(Failure) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .unopenable(path: path, errno: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            throw code == EWOULDBLOCK ? .busy(path: path) : .unlockable(path: path, errno: code)
        }
        if recordingPID {
            let pid = Array("\(getpid())\n".utf8)
            _ = ftruncate(fd, 0)
            _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
        descriptor = fd
        self.path = path
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
