import CSQLite
import TestSupport

/// Every row of every table of a store file, read through a separate read-only SQLite connection, so a test can say
/// "nothing at all changed" without trusting the store's own API.
enum DatabaseDump {
    static let tables = ["applied", "attempt", "request", "metadata"]

    /// Table name → its rows, each row its columns' values quoted by SQLite (`NULL`, `'text'`, `42`).
    static func read(_ path: String) throws -> [String: [String]] {
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let db else {
            sqlite3_close(db)
            throw FixtureError("cannot open \(path) read-only")
        }
        defer { sqlite3_close(db) }
        sqlite3_busy_timeout(db, 5_000)
        var dump: [String: [String]] = [:]
        for table in tables {
            dump[table] = try rows(db, "SELECT * FROM \(table) ORDER BY rowid")
        }
        return dump
    }

    private static func rows(_ db: OpaquePointer, _ sql: String) throws -> [String] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw FixtureError("cannot prepare \(sql): \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_finalize(statement) }
        var out: [String] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return out }
            guard rc == SQLITE_ROW else {
                throw FixtureError("cannot read \(sql): \(String(cString: sqlite3_errmsg(db)))")
            }
            var columns: [String] = []
            for c in 0..<sqlite3_column_count(statement) {
                switch sqlite3_column_type(statement, c) {
                case SQLITE_NULL: columns.append("NULL")
                case SQLITE_INTEGER: columns.append(String(sqlite3_column_int64(statement, c)))
                default:
                    let count = Int(sqlite3_column_bytes(statement, c))
                    let bytes =
                        sqlite3_column_blob(statement, c).map {
                            Array(UnsafeRawBufferPointer(start: $0, count: count))
                        } ?? []
                    columns.append("'" + String(decoding: bytes, as: UTF8.self) + "'")
                }
            }
            out.append(columns.joined(separator: "|"))
        }
    }
}
