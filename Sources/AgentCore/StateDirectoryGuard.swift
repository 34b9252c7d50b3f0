import AgentStore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Notices when the state directory is deleted or replaced under the running agent (docs/reliability.md#state-folder),
/// and takes it back once it is there again.
///
/// ```
///  intact ──(folder or agent.db gone, or another inode)──► lost ──(a folder is back: lock, re-open)──► intact
///                                                            └── (someone else holds the lock) ── stays lost
/// ```
/// While lost, the database and the `flock` live in deleted files: nothing written would survive a restart, and
/// another agent could take the folder. `state` and heartbeats then carry `state_dir.error`, and apply and
/// teardown are refused `state_unavailable`. Checked on demand (two `stat` calls) before each of them.
public final class StateDirectoryGuard: Sendable {
    /// A file's identity: what a deleted-and-recreated or replaced file does not keep.
    struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64

        init?(_ path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    private struct Held {
        var lock: StateDirectoryLock
        var directory: Identity?
        var database: Identity?
        var lost: String?
    }

    public let stateDirectory: String
    public var databasePath: String { stateDirectory + "/" + TopologyStore.fileName }
    private let held: Mutex<Held>

    /// Takes the state directory's lock (throws `StateDirectoryLock.Busy` when another agent holds it) and
    /// remembers the folder's identity; call ``storeOpened()`` once the store is open.
    public init(stateDirectory: String) throws {
        self.stateDirectory = stateDirectory
        let lock = try StateDirectoryLock(stateDirectory: stateDirectory)
        held = Mutex(Held(lock: lock, directory: Identity(stateDirectory)))
    }

    /// Remembers the database file's identity.
    public func storeOpened() {
        let database = Identity(databasePath)
        held.withLock { $0.database = database }
    }

    /// Why the state directory cannot be used, or nil while it is the one the agent opened.
    public func check() -> String? {
        held.withLock { h in
            if let lost = h.lost { return lost }
            let problem: String?
            if Identity(stateDirectory) == nil {
                problem = "the state directory \(stateDirectory) was removed under the agent"
            } else if Identity(stateDirectory) != h.directory {
                problem = "the state directory \(stateDirectory) was replaced under the agent"
            } else if Identity(databasePath) != h.database {
                problem = "the database \(databasePath) was removed or replaced under the agent"
            } else {
                problem = nil
            }
            h.lost = problem.map { $0 + "; nothing is recorded until it is back" }
            return h.lost
        }
    }

    /// After ``check()`` found the directory lost: when a folder is there again, takes its lock, lets `reopen`
    /// open the store in it, and remembers the new identities. Returns the remaining problem, or nil when
    /// recovered.
    public func recover(reopen: (String) async throws -> Void) async -> String? {
        guard let lost = held.withLock({ $0.lost }) else { return nil }
        var info = stat()
        guard stat(stateDirectory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { return lost }
        let lock: StateDirectoryLock
        do {
            lock = try StateDirectoryLock(stateDirectory: stateDirectory)
            try await reopen(databasePath)
        } catch {
            return held.withLock { h in
                h.lost = "the state directory \(stateDirectory) is back but cannot be used: \(error)"
                return h.lost
            }
        }
        held.withLock { h in
            h.lock = lock
            h.directory = Identity(stateDirectory)
            h.database = Identity(databasePath)
            h.lost = nil
        }
        return nil
    }
}
