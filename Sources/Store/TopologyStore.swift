import CSQLite
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The agent's local SQLite store (`<state dir>/agent.db`): the applied topology, the last failed apply attempt,
/// request results for safe retries, and metadata.
///
/// It is a cache, never a source of truth, and nothing reads it at start-up to re-apply anything (as at DECNET: no
/// re-apply from the cache at boot, docs/deviations.md#contract): opening only migrates the schema and marks
/// requests a crashed process left running as interrupted.
///
/// Thread safety: the one SQLite connection, its cached statements and the parsed-blob memo (`StoreState`) are
/// reached only inside `state.withLock` (a `Mutex`), so at most one thread uses them at a time; that invariant is
/// what makes the class `Sendable` and lets the connection run with `SQLITE_OPEN_NOMUTEX`. Calls block while SQLite
/// works (microseconds for reads, one `fsync` per write with `synchronous=FULL`), so keep them off latency-sensitive
/// event loops. One process should own a store file; a second one waits on SQLite's locks (busy timeout) but would
/// see this process's running requests as interrupted when it opens.
public final class TopologyStore: Sendable {
    /// How the store opens its file.
    public enum Access: Sendable {
        /// The agent's mode: creates, migrates and writes.
        case readWrite
        /// For inspection: creates and migrates nothing; every write throws `readOnly`.
        case readOnly
    }

    /// The file name inside the agent's state directory.
    public static let fileName = "agent.db"
    /// How long a write waits for another connection's lock before it fails with `busy`.
    public static let busyTimeoutMilliseconds: Int32 = 5_000

    /// A logger that drops everything: the default for tests and tools.
    public static let silentLogger = Logger(label: "decnet.agent.store") { _ in SwiftLogNoOpLogHandler() }

    /// The database file.
    public let path: String
    public let access: Access
    /// Where the store logs what it cannot report to a caller (a failed roll-back).
    public let logger: Logger
    private let state: Mutex<StoreState>

    /// Opens `<stateDirectory>/agent.db`, creating the directory (mode 0700) and the file (mode 0600) when missing.
    /// `now` (Unix seconds) stamps requests found interrupted by a previous crash.
    public convenience init(
        stateDirectory: String,
        access: Access = .readWrite,
        now: Int64 = unixTime(),
        logger: Logger = silentLogger
    ) throws(StoreError) {
        if access == .readWrite { try StoreFiles.makeDirectory(stateDirectory) }
        let separator = stateDirectory.hasSuffix("/") ? "" : "/"
        try self.init(path: stateDirectory + separator + Self.fileName, access: access, now: now, logger: logger)
    }

    /// Opens the database file at `path` (for example a DECNET `topology.db` to migrate), then configures it
    /// (WAL, `synchronous=FULL`, foreign keys, busy timeout) and migrates it forward.
    public init(
        path: String,
        access: Access = .readWrite,
        now: Int64 = unixTime(),
        logger: Logger = silentLogger
    )
        throws(StoreError)
    {
        self.path = path
        self.access = access
        self.logger = logger
        let readOnly = access == .readOnly
        if !readOnly { try StoreFiles.prepareDatabaseFile(path) }
        let opened = try Connection(path: path, readOnly: readOnly, create: false, logger: logger)
        do {
            try Self.configure(opened, readOnly: readOnly)
            try StoreSchema.migrate(opened, readOnly: readOnly, now: now)
            if !readOnly { try Self.interruptRunningRequests(opened, at: now) }
        } catch {
            opened.close()
            throw error
        }
        state = Mutex(StoreState(connection: opened))
    }

    deinit {
        close()
    }

    /// Closes the database; later calls throw `closed`. Closing twice is harmless.
    public func close() {
        state.withLock { $0.close() }
    }

    /// `PRAGMA integrity_check`: `["ok"]` for a healthy file, else SQLite's list of problems.
    public func integrityCheck() throws(StoreError) -> [String] {
        try withConnection("integrity check") { (c) throws(StoreError) in
            try c.rows("PRAGMA integrity_check", operation: "integrity check") { $0.text(0) ?? "" }
        }
    }

    /// The current time in Unix seconds, the store's default clock.
    public static func unixTime() -> Int64 { Int64(time(nil)) }

    /// Runs `body` with the connection while holding the lock; the only way any method reaches SQLite.
    func withConnection<T: Sendable>(
        _ operation: String,
        _ body: (Connection) throws(StoreError) -> T
    )
        throws(StoreError) -> T
    {
        try withState(operation) { (s: inout StoreState) throws(StoreError) -> T in try body(s.connection) }
    }

    /// Runs `body` with the whole lock-protected state (connection and memo).
    func withState<T: Sendable>(
        _ operation: String,
        _ body: (inout StoreState) throws(StoreError) -> T
    )
        throws(StoreError) -> T
    {
        try state.withLock { (s: inout StoreState) throws(StoreError) -> T in
            guard s.connection.isOpen else {
                throw StoreError(code: .closed, operation: operation, message: "the store is closed")
            }
            return try body(&s)
        }
    }

    /// Connection settings, applied at every open (journal mode is stored in the file; the rest is per connection).
    package static func configure(_ connection: Connection, readOnly: Bool) throws(StoreError) {
        let operation = "configure \(connection.path)"
        let db = try connection.db(operation)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        if !readOnly && connection.isReadOnly {
            throw StoreError(
                code: .readOnly,
                operation: operation,
                message: "the database can only be opened read-only (read-only file system or permissions)"
            )
        }
        try connection.run("PRAGMA foreign_keys = ON", operation: operation)
        if readOnly { return }
        let mode = try connection.scalarText("PRAGMA journal_mode = WAL", operation: operation)
        guard mode?.lowercased() == "wal" else {
            throw StoreError(
                code: .io,
                operation: operation,
                message: "could not switch to WAL (journal mode is \(mode ?? "?"))"
            )
        }
        // After the journal mode: with WAL, FULL syncs the log on every commit, so a commit survives power loss.
        try connection.run("PRAGMA synchronous = FULL", operation: operation)
    }
}
