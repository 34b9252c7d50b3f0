import FileErrors
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Topology

#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on `<state dir>/agent.lock`, held for as long as the value lives: one agent process (the
/// daemon, or a `local apply`/`local teardown`) works on a state directory at a time.
public final class StateDirectoryLock: Sendable {
    private let descriptor: Int32
    public let path: String

    public struct Busy: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "another decnet-agent is using \(path)" }
    }

    /// `agent.lock` could not be opened or created (`errno` says why).
    public struct Unopenable: Error, CustomStringConvertible {
        public let path: String
        public let errno: Int32
        /// Worded as the Foundation `CocoaError(.fileWriteNoPermission)` thrown here before printed, so the operator's
        /// line does not change.
        public var description: String {
            FileErrorText.details(CocoaError(.fileWriteNoPermission, userInfo: ["NSFilePath": path]))
        }
    }

    public init(stateDirectory: String) throws {
        path = stateDirectory + "/agent.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw Unopenable(path: path, errno: errno)
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw Busy(path: stateDirectory)
        }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
