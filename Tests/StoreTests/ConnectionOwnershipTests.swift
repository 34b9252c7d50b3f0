import Testing

@testable import AgentStore

/// GRDB-style ownership of the C handles: forgetting to close is a programmer error that asserts in debug builds.
@Suite("Connection and statement ownership")
struct ConnectionOwnershipTests {
    @Test func closedConnectionAndCachedStatementsAreClean() throws {
        let connection = try Connection(path: ":memory:", readOnly: false, create: true)
        do {
            let first = try connection.statement("SELECT 1", operation: "test")
            #expect(try connection.statement("SELECT 1", operation: "test") === first)  // cached
        }  // only the cache holds it now, and close() finalizes it
        #expect(try connection.scalarInt("SELECT 41 + 1", operation: "test") == 42)
        connection.close()
        connection.close()
        #expect(!connection.isOpen)
        let error = try #require(throws: StoreError.self) { try connection.db("test") }
        #expect(error.code == .closed)
    }

    @Test func errorsCarrySQLiteCodesAndMessage() throws {
        let connection = try Connection(path: ":memory:", readOnly: false, create: true)
        defer { connection.close() }
        try connection.execute(
            script: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)",
            operation: "test"
        )
        try connection.run("INSERT INTO t (v) VALUES (?)", [.text("a")], operation: "insert")
        let error = try #require(throws: StoreError.self) {
            try connection.run("INSERT INTO t (v) VALUES (?)", [.text("a")], operation: "insert")
        }
        #expect(error.code == .sqlite)
        #expect(error.sqliteCode == 19)  // SQLITE_CONSTRAINT
        #expect(error.sqliteExtendedCode == 2067)  // SQLITE_CONSTRAINT_UNIQUE
        #expect(error.message.contains("UNIQUE"))
        #expect(error.operation == "insert")
        // The failed statement was reset: the connection is usable and holds no transaction.
        #expect(try connection.scalarInt("SELECT count(*) FROM t", operation: "test") == 1)
    }

    @Test func transactionRollsBackWhenTheBodyThrows() throws {
        let connection = try Connection(path: ":memory:", readOnly: false, create: true)
        defer { connection.close() }
        try connection.execute(script: "CREATE TABLE t (v INTEGER)", operation: "test")
        #expect(throws: StoreError.self) {
            try connection.transaction(operation: "test") { () throws(StoreError) in
                try connection.run("INSERT INTO t VALUES (1)", operation: "test")
                throw StoreError(code: .io, operation: "test", message: "injected")
            }
        }
        #expect(try connection.scalarInt("SELECT count(*) FROM t", operation: "test") == 0)
        try connection.transaction(operation: "test") { () throws(StoreError) in
            _ = try connection.run("INSERT INTO t VALUES (2)", operation: "test")
        }
        #expect(try connection.scalarInt("SELECT count(*) FROM t", operation: "test") == 1)
    }

    #if DEBUG
    @Test func connectionDroppedWithoutCloseAsserts() async {
        await #expect(processExitsWith: .failure) {
            _ = try? Connection(path: ":memory:", readOnly: false, create: true)
        }
    }

    @Test func closingWithALiveStatementAsserts() async {
        await #expect(processExitsWith: .failure) {
            guard let connection = try? Connection(path: ":memory:", readOnly: false, create: true),
                let db = try? connection.db("test"),
                let statement = try? Statement(db: db, sql: "SELECT 1", persistent: false)
            else { return }
            connection.close()
            withExtendedLifetime(statement) {}
        }
    }
    #endif
}
