import SystemFiles
import Topology

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// The agent's hold on its state folder: ``DirectoryLock`` on `<state dir>/agent.lock`, held for as long as the
/// value lives, so one agent process (the daemon, or a `local apply`/`local teardown`) works on a folder at a time.
public final class StateDirectoryLock: Sendable {
    private let lock: DirectoryLock
    public var path: String { lock.path }

    public struct Busy: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "another decnet-agent is using \(path)" }
    }

    /// `agent.lock` could not be opened, created or locked (`errno` says why).
    public struct Unopenable: Error, CustomStringConvertible {
        public let path: String
        public let errno: Int32
        public var description: String { "cannot open \(path): \(String(cString: strerror(errno)))" }
    }

    public init(stateDirectory: String) throws {
        do {
            lock = try DirectoryLock(path: stateDirectory + "/agent.lock")
        } catch .busy {
            throw Busy(path: stateDirectory)
        } catch .unopenable(let path, let code), .unlockable(let path, let code) {
            throw Unopenable(path: path, errno: code)
        }
    }
}
