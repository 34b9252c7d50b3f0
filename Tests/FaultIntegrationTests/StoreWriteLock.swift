import CSQLite
import Foundation

/// A second SQLite connection that holds the agent database's write lock (`BEGIN IMMEDIATE`), as an operator's
/// `sqlite3` shell in the middle of a transaction would. The agent's next write waits in SQLite's busy handler
/// (5 s), which keeps the agent inside its `record` phase long enough to be hit from outside, without any hook
/// in the agent. Readers are not blocked (WAL).
///
/// Used from one task at a time; the `OpaquePointer` is only touched in `init` and `release()`, which the tests call
/// in sequence. That is the invariant behind `@unchecked Sendable`.
final class StoreWriteLock: @unchecked Sendable {
    private var db: OpaquePointer?

    /// Opens `path` (an existing database in WAL mode) and takes the write lock, waiting up to 5 s for it.
    init(path: String) throws {
        var handle: OpaquePointer?
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let handle else {
            sqlite3_close(handle)
            throw FaultTestError("cannot open \(path) to lock it")
        }
        sqlite3_busy_timeout(handle, 5000)
        let status = sqlite3_exec(handle, "BEGIN IMMEDIATE", nil, nil, nil)
        guard status == SQLITE_OK else {
            let message = String(cString: sqlite3_errmsg(handle))
            sqlite3_close(handle)
            throw FaultTestError("cannot take the write lock of \(path): \(message)")
        }
        db = handle
    }

    deinit { release() }

    /// Ends the transaction (writing nothing) and closes the connection. Calling it again does nothing.
    func release() {
        guard let db else { return }
        sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
        sqlite3_close(db)
        self.db = nil
    }
}
