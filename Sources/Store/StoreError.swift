import CSQLite

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one error type of the agent's store: a stable `code` to switch on, the operation that failed, and the
/// underlying SQLite result code (primary and extended) or `errno` when there is one.
///
/// Environment problems (a read-only or full disk, a corrupt file, a schema from a newer agent) are thrown as this
/// error and never trap; callers switch on `code`, never on `message`.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// An extensible error code (new codes may be added; do not switch exhaustively).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// `put` for a topology while a different topology is applied; `existingTopologyID` names it.
        public static let alreadyApplied = Code("already_applied")
        /// The file was written by a newer agent (`PRAGMA user_version` above what this code knows). Never downgraded.
        public static let schemaTooNew = Code("schema_too_new")
        /// The file is an SQLite database, but neither ours nor DECNET's `topology.db`.
        public static let unknownSchema = Code("unknown_schema")
        /// The file is not a database or is damaged (`SQLITE_CORRUPT`, `SQLITE_NOTADB`), or a stored JSON text no
        /// longer parses.
        public static let corrupt = Code("corrupt")
        /// The database or its directory cannot be written (`SQLITE_READONLY`, `EROFS`), or a read-only store was
        /// asked to write.
        public static let readOnly = Code("read_only")
        /// The disk (or a file size limit) is full (`SQLITE_FULL`, `ENOSPC`).
        public static let diskFull = Code("disk_full")
        /// An I/O or open failure (`SQLITE_IOERR`, `SQLITE_CANTOPEN`, a failing system call).
        public static let io = Code("io")
        /// Another connection held a lock for longer than the busy timeout (`SQLITE_BUSY`, `SQLITE_LOCKED`).
        public static let busy = Code("busy")
        /// The store was used after `close()`.
        public static let closed = Code("closed")
        /// Any other SQLite failure (for example a violated constraint).
        public static let sqlite = Code("sqlite")
    }

    public var code: Code
    /// What the store was doing, e.g. `"put"` or `"open /var/lib/decnet-agent/agent.db"`.
    public var operation: String
    /// Human-readable detail (SQLite's own message where there is one). Not stable: never match on it.
    public var message: String
    /// SQLite's primary result code (`SQLITE_FULL` = 13, ...), when SQLite reported the failure.
    public var sqliteCode: Int32?
    /// SQLite's extended result code (`SQLITE_IOERR_WRITE`, ...), when SQLite reported the failure.
    public var sqliteExtendedCode: Int32?
    /// The C `errno`, when a system call of the store itself failed.
    public var errno: Int32?
    /// For `alreadyApplied`: the topology id that is applied.
    public var existingTopologyID: String?

    public init(
        code: Code,
        operation: String,
        message: String,
        sqliteCode: Int32? = nil,
        sqliteExtendedCode: Int32? = nil,
        errno: Int32? = nil,
        existingTopologyID: String? = nil
    ) {
        self.code = code
        self.operation = operation
        self.message = message
        self.sqliteCode = sqliteCode
        self.sqliteExtendedCode = sqliteExtendedCode
        self.errno = errno
        self.existingTopologyID = existingTopologyID
    }

    public var description: String {
        var text = "store error \(code) during \(operation): \(message)"
        if let extended = sqliteExtendedCode { text += " (sqlite code \(extended))" }
        if let errno { text += " (errno \(errno))" }
        return text
    }
}

extension StoreError {
    /// Builds an error from an SQLite result code, reading the connection's message when there is a connection.
    /// Call it right after the failing call: SQLite keeps only the latest message.
    static func sqlite(_ result: Int32, db: OpaquePointer?, operation: String) -> StoreError {
        let extended = db.map { sqlite3_extended_errcode($0) } ?? result
        // The connection's code is only trustworthy when it agrees with the code we were handed.
        let code = (extended & 0xFF) == (result & 0xFF) ? extended : result
        let message: String
        if let db, (sqlite3_errcode(db) & 0xFF) == (result & 0xFF), let text = sqlite3_errmsg(db) {
            message = String(cString: text)
        } else {
            message = String(cString: sqlite3_errstr(result))
        }
        // For I/O failures SQLite keeps the errno of the failing system call: a full disk or a file size limit
        // surfaces as SQLITE_IOERR_WRITE (EFBIG) or SQLITE_IOERR_FSYNC (ENOSPC on some file systems).
        let primary = code & 0xFF
        let fromSystem = primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_FULL
        let systemErrno = fromSystem ? db.map { sqlite3_system_errno($0) } ?? 0 : 0
        var storeCode = Code(sqliteResult: code)
        if storeCode == .io {
            switch systemErrno {
            case ENOSPC, EDQUOT, EFBIG: storeCode = .diskFull
            case EROFS: storeCode = .readOnly
            default: break
            }
        }
        return StoreError(
            code: storeCode,
            operation: operation,
            message: message,
            sqliteCode: primary,
            sqliteExtendedCode: code,
            errno: systemErrno != 0 ? systemErrno : nil
        )
    }

    /// Builds an error from a failed system call's `errno`.
    static func system(_ errorNumber: Int32, operation: String) -> StoreError {
        let code: Code
        switch errorNumber {
        case EROFS, EACCES, EPERM: code = .readOnly
        case ENOSPC, EDQUOT, EFBIG: code = .diskFull
        default: code = .io
        }
        return StoreError(
            code: code,
            operation: operation,
            message: String(cString: strerror(errorNumber)),
            errno: errorNumber
        )
    }
}

extension StoreError.Code {
    /// Maps an SQLite (primary or extended) result code to the store's code.
    init(sqliteResult: Int32) {
        switch sqliteResult & 0xFF {
        case SQLITE_CORRUPT, SQLITE_NOTADB: self = .corrupt
        case SQLITE_READONLY, SQLITE_PERM, SQLITE_AUTH: self = .readOnly
        case SQLITE_FULL: self = .diskFull
        case SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_NOLFS, SQLITE_PROTOCOL: self = .io
        case SQLITE_BUSY, SQLITE_LOCKED: self = .busy
        default: self = .sqlite
        }
    }
}
