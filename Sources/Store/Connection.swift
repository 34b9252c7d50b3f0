import CSQLite
import Logging

/// One SQLite connection (`sqlite3 *`) and its cache of prepared statements.
///
/// Ownership follows GRDB: the connection is closed by `close()`, which finalizes the cached statements first; a
/// connection that reaches `deinit` still open, or that is closed while statements outside the cache are alive, is a
/// programmer error and asserts in debug builds (release builds still close it, through `sqlite3_close_v2`).
/// A connection is not thread-safe: `TopologyStore` (and the master's `MasterStore`, which shares this wrapper) uses
/// it only while holding its lock, which is why it can be opened with `SQLITE_OPEN_NOMUTEX`.
package final class Connection {
    private(set) var handle: OpaquePointer?
    package let path: String
    /// Where what the connection cannot report to a caller goes (a failed roll-back).
    let logger: Logger
    private var cache: [String: Statement] = [:]

    /// Opens (and with `create`, creates) the database file at `path`.
    package init(
        path: String,
        readOnly: Bool,
        create: Bool,
        logger: Logger = TopologyStore.silentLogger
    ) throws(StoreError) {
        self.path = path
        self.logger = logger
        var db: OpaquePointer?
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        flags |= readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        if create && !readOnly { flags |= SQLITE_OPEN_CREATE }
        let result = sqlite3_open_v2(path, &db, flags, nil)
        guard result == SQLITE_OK, let db else {
            let error = StoreError.sqlite(result, db: db, operation: "open \(path)")
            sqlite3_close_v2(db)
            throw error
        }
        sqlite3_extended_result_codes(db, 1)
        handle = db
    }

    deinit {
        assert(handle == nil, "Connection to \(path) reached deinit without close()")
        if handle != nil { close() }
    }

    package var isOpen: Bool { handle != nil }

    /// Finalizes the cached statements and closes the connection. Closing twice is harmless.
    package func close() {
        guard let db = handle else { return }
        handle = nil
        cache.removeAll()
        let result = sqlite3_close(db)
        if result == SQLITE_BUSY {
            var alive: [String] = []
            var statement = sqlite3_next_stmt(db, nil)
            while let current = statement {
                alive.append(sqlite3_sql(current).map { String(cString: $0) } ?? "?")
                statement = sqlite3_next_stmt(db, current)
            }
            assertionFailure("closing \(path) with statements still alive: \(alive)")
            // Becomes a zombie that SQLite frees when the last statement is finalized.
            sqlite3_close_v2(db)
        }
    }

    /// The open handle, or `closed` after `close()`.
    package func db(_ operation: String) throws(StoreError) -> OpaquePointer {
        guard let handle else {
            throw StoreError(code: .closed, operation: operation, message: "the store is closed")
        }
        return handle
    }

    /// A prepared statement for `sql`, compiled once and then reused from the cache.
    func statement(_ sql: String, operation: String) throws(StoreError) -> Statement {
        if let cached = cache[sql] { return cached }
        let statement = try Statement(db: db(operation), sql: sql, persistent: true)
        cache[sql] = statement
        return statement
    }

    /// Runs one or more SQL statements that return no rows (schema scripts), without caching them.
    package func execute(script sql: String, operation: String) throws(StoreError) {
        let db = try db(operation)
        var message: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(db, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard result == SQLITE_OK else {
            var error = StoreError.sqlite(result, db: db, operation: operation)
            if let message { error.message = String(cString: message) }
            throw error
        }
    }

    /// Runs one statement that returns no rows and answers how many rows it changed.
    @discardableResult
    package func run(_ sql: String, _ values: [SQLiteValue] = [], operation: String) throws(StoreError) -> Int {
        let db = try db(operation)
        try statement(sql, operation: operation).run(values, operation: operation) { (s) throws(StoreError) in
            try s.stepToEnd(operation: operation)
        }
        return Int(sqlite3_changes64(db))
    }

    /// Reads the first row of a query, or `nil` when it has none.
    package func row<T>(
        _ sql: String,
        _ values: [SQLiteValue] = [],
        operation: String,
        _ read: (Statement) throws(StoreError) -> T
    ) throws(StoreError) -> T? {
        try statement(sql, operation: operation).run(values, operation: operation) { (s) throws(StoreError) -> T? in
            try s.step(operation: operation) ? read(s) : nil
        }
    }

    /// Reads every row of a query.
    package func rows<T>(
        _ sql: String,
        _ values: [SQLiteValue] = [],
        operation: String,
        _ read: (Statement) throws(StoreError) -> T
    ) throws(StoreError) -> [T] {
        try statement(sql, operation: operation).run(values, operation: operation) { (s) throws(StoreError) -> [T] in
            var result: [T] = []
            while try s.step(operation: operation) { result.append(try read(s)) }
            return result
        }
    }

    /// Runs `body` in a write transaction (`BEGIN IMMEDIATE`, so the write lock is taken up front and a busy
    /// database waits for the busy timeout instead of failing half-way); commits, or rolls back when `body` throws.
    package func transaction<T>(operation: String, _ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try inTransaction(begin: "BEGIN IMMEDIATE", operation: operation, body)
    }

    /// Runs `body` in a read transaction (`BEGIN DEFERRED`), so several reads see one consistent state.
    package func transactionForReading<T>(operation: String, _ body: () throws(StoreError) -> T) throws(StoreError) -> T
    {
        try inTransaction(begin: "BEGIN", operation: operation, body)
    }

    private func inTransaction<T>(
        begin: String,
        operation: String,
        _ body: () throws(StoreError) -> T
    ) throws(StoreError) -> T {
        try run(begin, operation: operation)
        do {
            let value = try body()
            try run("COMMIT", operation: operation)
            return value
        } catch {
            // SQLite may already have rolled back by itself (SQLITE_FULL, SQLITE_IOERR): only roll back what is open.
            // The caller gets `body`'s error; a roll-back that fails too is only logged (docs/architecture.md#logs).
            if let db = handle, sqlite3_get_autocommit(db) == 0 {
                do {
                    try run("ROLLBACK", operation: operation)
                } catch let rollback {
                    logger.warning(
                        "could not roll back a failed transaction",
                        metadata: [
                            "operation": "\(operation)", "error": "\(rollback)", "cause": "\(error)",
                        ]
                    )
                }
            }
            throw error
        }
    }

    /// The rows changed by this connection since it was opened (`sqlite3_total_changes64`).
    var totalChanges: Int64 { handle.map { sqlite3_total_changes64($0) } ?? 0 }

    /// Whether SQLite opened the main database read-only (asked for, or fell back to because of permissions or a
    /// read-only file system).
    var isReadOnly: Bool { handle.map { sqlite3_db_readonly($0, "main") == 1 } ?? true }

    /// The single value of a pragma or single-value query, as text.
    package func scalarText(_ sql: String, operation: String) throws(StoreError) -> String? {
        try row(sql, operation: operation) { $0.text(0) } ?? nil
    }

    /// The single value of a pragma or single-value query, as an integer (0 when there is no row).
    package func scalarInt(_ sql: String, operation: String) throws(StoreError) -> Int64 {
        try row(sql, operation: operation) { $0.int64(0) } ?? 0
    }
}
