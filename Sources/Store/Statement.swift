import CSQLite

/// A value bound to a statement parameter.
package enum SQLiteValue {
    case null
    case integer(Int64)
    case text(String)
    /// UTF-8 text given as bytes, stored exactly as given (no String round trip).
    case textBytes([UInt8])
}

/// One prepared statement (`sqlite3_stmt`), owned by exactly one `Statement` that finalizes it in `deinit`.
///
/// Statements are not thread-safe; they live inside their `Connection`'s cache and are used only under the store's
/// lock. Every use goes through `run`, which binds, steps and always resets, so a statement never stays busy (an
/// unreset statement would hold a read transaction open and block WAL checkpoints).
package final class Statement {
    let handle: OpaquePointer
    let sql: String

    /// Compiles `sql`, which must hold exactly one statement.
    init(db: OpaquePointer, sql: String, persistent: Bool) throws(StoreError) {
        var statement: OpaquePointer?
        let flags: UInt32 = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        // `tail` points into the C string, so it is read while that string is alive (a String passed straight to
        // a C function is bridged to a buffer that is freed when the call returns).
        let (result, rest) = sql.withCString { cSQL -> (Int32, String) in
            var tail: UnsafePointer<CChar>?
            let result = sqlite3_prepare_v3(db, cSQL, -1, flags, &statement, &tail)
            return (result, tail.map { String(cString: $0) } ?? "")
        }
        guard result == SQLITE_OK, let statement else {
            throw StoreError.sqlite(result == SQLITE_OK ? SQLITE_MISUSE : result, db: db, operation: "prepare \(sql)")
        }
        precondition(rest.allSatisfy(\.isWhitespace), "Statement holds more than one SQL statement: \(sql)")
        self.handle = statement
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Binds `values` to parameters 1...n, calls `body` to step and read rows, then resets the statement whatever
    /// happens, so it can be reused and holds no lock.
    func run<T>(
        _ values: [SQLiteValue],
        operation: String,
        _ body: (Statement) throws(StoreError) -> T
    )
        throws(StoreError) -> T
    {
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        precondition(
            Int(sqlite3_bind_parameter_count(handle)) == values.count,
            "\(values.count) values for the parameters of \(sql)"
        )
        for (offset, value) in values.enumerated() {
            try bind(value, at: Int32(offset + 1), operation: operation)
        }
        return try body(self)
    }

    /// Advances to the next row: `true` when a row is available, `false` when the statement is done.
    func step(operation: String) throws(StoreError) -> Bool {
        let result = sqlite3_step(handle)
        switch result {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw StoreError.sqlite(result, db: sqlite3_db_handle(handle), operation: operation)
        }
    }

    /// Steps until done, for statements that return no rows.
    func stepToEnd(operation: String) throws(StoreError) {
        while try step(operation: operation) {}
    }

    private func bind(_ value: SQLiteValue, at index: Int32, operation: String) throws(StoreError) {
        let result: Int32
        switch value {
        case .null:
            result = sqlite3_bind_null(handle, index)
        case .integer(let number):
            result = sqlite3_bind_int64(handle, index, number)
        case .text(let text):
            result = sqlite3_bind_text(handle, index, text, -1, decnet_sqlite_transient())
        case .textBytes(let bytes):
            result = bytes.withUnsafeBufferPointer { buffer in
                // A nil pointer would bind NULL, so an empty text needs a real (empty) C string.
                guard let base = buffer.baseAddress, !buffer.isEmpty else {
                    return sqlite3_bind_text(handle, index, "", 0, decnet_sqlite_transient())
                }
                return base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    sqlite3_bind_text(handle, index, $0, Int32(buffer.count), decnet_sqlite_transient())
                }
            }
        }
        guard result == SQLITE_OK else {
            throw StoreError.sqlite(result, db: sqlite3_db_handle(handle), operation: operation)
        }
    }
}

extension Statement {
    /// Whether column `index` of the current row is SQL NULL.
    package func isNull(_ index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }

    package func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }

    /// The column as UTF-8 bytes exactly as stored, or `nil` for NULL.
    package func bytes(_ index: Int32) -> [UInt8]? {
        guard !isNull(index) else { return nil }
        // Ask for the text first, then its length (the order SQLite documents).
        guard let text = sqlite3_column_text(handle, index) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, index))
        return Array(UnsafeBufferPointer(start: text, count: count))
    }

    /// The column as a String, or `nil` for NULL.
    package func text(_ index: Int32) -> String? {
        bytes(index).map { String(decoding: $0, as: UTF8.self) }
    }
}
