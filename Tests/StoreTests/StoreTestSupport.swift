import CSQLite
import DecnetJSON
import Foundation
import Testing

@testable import AgentStore

/// A fresh directory under /tmp, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/store-tests-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw TestSetupError("mkdtemp failed: errno \(errno)") }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    var database: String { path + "/" + TopologyStore.fileName }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Raw SQL on a database file through the store's own connection wrapper, for building old-schema files and
/// inspecting rows behind the store's back.
final class RawDatabase {
    let connection: Connection

    init(_ path: String) throws {
        connection = try Connection(path: path, readOnly: false, create: true)
    }

    deinit { connection.close() }

    func execute(_ sql: String) throws { try connection.execute(script: sql, operation: "test") }

    /// Every row of `sql`, each column as text (`nil` for NULL).
    func rows(_ sql: String) throws -> [[String?]] {
        try connection.rows(sql, operation: "test") { s in
            (0..<sqlite3ColumnCount(s)).map { s.text($0) }
        }
    }

    func int(_ sql: String) throws -> Int64 { try connection.scalarInt(sql, operation: "test") }
}

func sqlite3ColumnCount(_ statement: Statement) -> Int32 { sqlite3_column_count(statement.handle) }

extension TopologyStore {
    /// Reads one pragma or scalar through the store's own connection (tests only).
    func scalar(_ sql: String) throws -> String? {
        try withConnection("test") { (c) throws(StoreError) in try c.scalarText(sql, operation: "test") }
    }

    /// Rows changed by the store's connection since it was opened.
    func totalChanges() throws -> Int64 {
        try withConnection("test") { (c) throws(StoreError) in c.totalChanges }
    }
}

/// A hydrated topology with the values whose text must survive exactly: a big integer, `1.0`, non-sorted keys,
/// non-ASCII text and an escaped control character.
let trickyHydrated: JSONValue = {
    let text =
        #"{"topology":{"id":"t1","name":"zéta ☃","mode":"unihost"},"big":123456789012345678901234567890123,"#
        + #""float_one":1.0,"int_one":1,"neg_zero":-0.0,"exp":1e+100,"b":[true,false,null],"a":"tab\there","lans":[]}"#
    return try! JSONParser.parse(text)
}()

let hash64 = String(repeating: "ab", count: 32)
