import DecnetJSON
import Testing

@testable import AgentStore

/// Schema versions (`PRAGMA user_version`): an empty file or DECNET's `topology.db` is version 0 and is migrated
/// forward at open; a newer or foreign file is refused and left untouched.
@Suite("Schema and migrations")
struct MigrationTests {
    /// DECNET's table, created with its exact DDL, and a row the way `json.dumps(sort_keys=True)` wrote it.
    static let seedDDL = """
        CREATE TABLE IF NOT EXISTS applied_topology (
         topology_id TEXT PRIMARY KEY,
         applied_version_hash TEXT NOT NULL,
         hydrated_blob_json TEXT NOT NULL,
         applied_at INTEGER NOT NULL,
         last_error TEXT);
        """
    static let seedBlob =
        #"{"big": 123456789012345678901234567890, "lans": [], "one": 1.0, "#
        + #""topology": {"id": "t-boot", "name": "caf\u00e9"}}"#

    static func writeSeedDatabase(_ path: String, rows: [String]) throws {
        let raw = try RawDatabase(path)
        try raw.execute(seedDDL)
        for row in rows { try raw.execute("INSERT INTO applied_topology VALUES \(row)") }
    }

    @Test func decnetTopologyDbIsMigratedKeepingItsRow() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("topology.db")
        try Self.writeSeedDatabase(path, rows: ["('t-boot', '\(hash64)', '\(Self.seedBlob)', 1776749115, 'old error')"])
        let store = try TopologyStore(path: path, now: 1_800_000_000)
        let row = try #require(try store.current())
        #expect(row.topologyID == "t-boot")
        #expect(row.versionHash == hash64)
        #expect(row.appliedAt == 1_776_749_115)
        #expect(row.lastError == "old error")
        #expect(row.hydrated == (try JSONParser.parse(Self.seedBlob)))
        #expect(row.hydrated["big"] == .integer(JSONInteger(decimal: "123456789012345678901234567890")!))
        #expect(row.hydrated["one"] == .float(1.0))
        #expect(try store.lastAttempt() == nil)
        #expect(try store.scalar("PRAGMA user_version") == "2")
        let raw = try RawDatabase(path)
        // Carried verbatim, and DECNET's table is gone.
        #expect(try raw.rows("SELECT hydrated_json FROM applied") == [[Self.seedBlob]])
        #expect(try raw.int("SELECT count(*) FROM sqlite_schema WHERE name = 'applied_topology'") == 0)
        #expect(try raw.rows("SELECT value FROM metadata WHERE key = 'created_from'") == [["decnet-topology-db"]])
        // The migrated store follows our rules from now on.
        let error = try #require(throws: StoreError.self) {
            try store.put(topologyID: "t-other", versionHash: "h", hydrated: [:], at: 1)
        }
        #expect(error.existingTopologyID == "t-boot")
    }

    /// DECNET's later marker row (failed first apply: empty hash, `{}`, time 0) names no applied hash: it becomes
    /// the attempt.
    @Test func decnetMarkerRowBecomesTheAttempt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.writeSeedDatabase(dir.database, rows: ["('t-new', '', '{}', 0, 'compose failed')"])
        let store = try TopologyStore(stateDirectory: dir.path)
        #expect(try store.current() == nil)
        let attempt = ApplyAttempt(topologyID: "t-new", versionHash: "", at: 0, error: "compose failed")
        #expect(try store.lastAttempt() == attempt)
    }

    @Test func emptySeedTableMigratesToIdle() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.writeSeedDatabase(dir.database, rows: [])
        let store = try TopologyStore(stateDirectory: dir.path)
        #expect(try store.current() == nil)
        #expect(try store.scalar("PRAGMA user_version") == "2")
    }

    /// Several rows can only come from a race in DECNET's `put`; we keep the one its `current()` reported.
    @Test func severalSeedRowsKeepTheFirst() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.writeSeedDatabase(
            dir.database,
            rows: ["('t-b', 'hb', '{}', 2, NULL)", "('t-a', 'ha', '{}', 1, NULL)"]
        )
        let store = try TopologyStore(stateDirectory: dir.path)
        #expect(try store.current()?.topologyID == "t-b")
    }

    /// A version-1 file (request results as envelopes, an interrupted request's envelope written by the store) keeps
    /// working: every stored result is answered with its bytes, a request left running is interrupted at this open,
    /// and the new status rules hold from then on.
    @Test func version1RequestRowsAreMigratedToStatuses() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let interruptedByVersion1 =
            #"{"proto":1,"type":"result","id":"r-old","status":500,"error":{"code":"internal","#
            + #""message":"agent restarted while the request was running","details":{}}}"#
        do {
            let raw = try RawDatabase(dir.database)
            try raw.execute(StoreSchema.version1)
            try raw.execute(
                """
                INSERT INTO request (id, fingerprint, type, started_at, finished_at, result_json) VALUES
                    ('r-done', 'f1', 'apply', 10, 11, '{"ok":1}'),
                    ('r-old', 'f2', 'apply', 20, 21, '\(interruptedByVersion1)'),
                    ('r-run', 'f3', 'teardown', 30, NULL, NULL);
                PRAGMA application_id = \(StoreSchema.applicationID);
                PRAGMA user_version = 1;
                """
            )
        }
        let store = try TopologyStore(stateDirectory: dir.path, now: 700)
        #expect(try store.scalar("PRAGMA user_version") == "2")
        #expect(try store.integrityCheck() == ["ok"])
        #expect(
            try store.beginRequest(id: "r-done", fingerprint: "f1", type: "apply", at: 701)
                == .finished(resultJSON: Array(#"{"ok":1}"#.utf8))
        )
        #expect(
            try store.beginRequest(id: "r-old", fingerprint: "f2", type: "apply", at: 701)
                == .finished(resultJSON: Array(interruptedByVersion1.utf8))
        )
        #expect(
            try store.beginRequest(id: "r-run", fingerprint: "f3", type: "teardown", at: 701) == .interrupted(at: 700)
        )
        #expect(try store.beginRequest(id: "r-run", fingerprint: "other", type: "teardown", at: 701) == .reused)
        let raw = try RawDatabase(dir.database)
        #expect(
            try raw.rows("SELECT id, status, started_at, finished_at FROM request ORDER BY seq")
                == [
                    ["r-done", "finished", "10", "11"], ["r-old", "finished", "20", "21"],
                    ["r-run", "interrupted", "30", "700"],
                ]
        )
        // The version-2 rules: a finished row needs its result, an interrupted one has none.
        #expect(throws: StoreError.self) {
            try raw.execute("UPDATE request SET result_json = NULL WHERE id = 'r-done'")
        }
        #expect(throws: StoreError.self) {
            try raw.execute("UPDATE request SET result_json = '{}' WHERE id = 'r-run'")
        }
        #expect(throws: StoreError.self) { try raw.execute("UPDATE request SET status = 'lost' WHERE id = 'r-run'") }
        // The running-request index is rebuilt on the status.
        #expect(
            try raw.rows("SELECT sql FROM sqlite_schema WHERE name = 'request_running'")
                == [["CREATE INDEX request_running ON request (seq) WHERE status = 'running'"]]
        )
        // Retention still applies to both kinds of ended rows.
        #expect(try store.prune(now: 10_000_000, maxAge: 0, keep: 0) == 3)
    }

    /// Opening an up-to-date file twice changes no row and no version.
    @Test func openingTwiceIsANoOp() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            let store = try TopologyStore(stateDirectory: dir.path, now: 100)
            try store.put(topologyID: "t1", versionHash: "h1", hydrated: ["a": 1], at: 100)
            store.close()
        }
        let dump = "SELECT * FROM applied UNION ALL SELECT key, value, 0, 0, 0, 0 FROM metadata"
        let before = try RawDatabase(dir.database).rows(dump)
        for now in [200, 300] as [Int64] {
            let store = try TopologyStore(stateDirectory: dir.path, now: now)
            #expect(try store.totalChanges() == 0)
            #expect(try store.scalar("PRAGMA user_version") == "2")
            store.close()
        }
        let after = try RawDatabase(dir.database).rows(dump)
        #expect(before == after)
        #expect(before.count == 3)
    }

    @Test func newerSchemaIsRefusedAndLeftAlone() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            let store = try TopologyStore(stateDirectory: dir.path)
            try store.put(topologyID: "t1", versionHash: "h1", hydrated: [:], at: 1)
            store.close()
        }
        try RawDatabase(dir.database).execute("PRAGMA user_version = \(StoreSchema.currentVersion + 1)")
        for access in [TopologyStore.Access.readWrite, .readOnly] {
            let error = try #require(throws: StoreError.self) {
                try TopologyStore(stateDirectory: dir.path, access: access)
            }
            #expect(error.code == .schemaTooNew)
        }
        let raw = try RawDatabase(dir.database)
        #expect(try raw.int("PRAGMA user_version") == StoreSchema.currentVersion + 1)
        #expect(try raw.rows("SELECT topology_id FROM applied") == [["t1"]])
    }

    @Test func unversionedFileWithOtherTablesIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let schema = "SELECT type, name, sql FROM sqlite_schema ORDER BY name"
        let before = try {
            let raw = try RawDatabase(dir.database)
            try raw.execute("CREATE TABLE offsets (k TEXT PRIMARY KEY, v INTEGER)")
            return try raw.rows(schema)
        }()
        let error = try #require(throws: StoreError.self) { try TopologyStore(stateDirectory: dir.path) }
        #expect(error.code == .unknownSchema)
        let raw = try RawDatabase(dir.database)
        #expect(try raw.rows(schema) == before)
        #expect(try raw.int("PRAGMA user_version") == 0)
    }

    @Test func seedTableWithoutDecnetColumnsIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try RawDatabase(dir.database).execute("CREATE TABLE applied_topology (topology_id TEXT PRIMARY KEY)")
        let error = try #require(throws: StoreError.self) { try TopologyStore(stateDirectory: dir.path) }
        #expect(error.code == .unknownSchema)
    }

    @Test func foreignApplicationIdIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try RawDatabase(dir.database).execute("PRAGMA application_id = 42; CREATE TABLE x (y)")
        let error = try #require(throws: StoreError.self) { try TopologyStore(stateDirectory: dir.path) }
        #expect(error.code == .unknownSchema)
    }

    /// A version-0 file cannot be migrated by a read-only store.
    @Test func readOnlyStoreDoesNotMigrate() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.writeSeedDatabase(dir.database, rows: ["('t-boot', 'h', '{}', 1, NULL)"])
        let error = try #require(throws: StoreError.self) {
            try TopologyStore(stateDirectory: dir.path, access: .readOnly)
        }
        #expect(error.code == .readOnly)
        #expect(try RawDatabase(dir.database).int("PRAGMA user_version") == 0)
    }

    /// The at-most-one rules are enforced by the schema itself, not only by the store's code.
    @Test func schemaEnforcesOneAppliedAndOneAttemptRow() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        try store.put(topologyID: "t1", versionHash: "h1", hydrated: [:], at: 1)
        try store.recordAttempt(topologyID: "t1", versionHash: "h2", at: 2, error: "e")
        let raw = try RawDatabase(dir.database)
        #expect(throws: StoreError.self) {
            try raw.execute(
                "INSERT INTO applied (slot, topology_id, version_hash, hydrated_json, applied_at) "
                    + "VALUES (2, 't2', 'h', '{}', 1)"
            )
        }
        #expect(throws: StoreError.self) {
            try raw.execute(
                "INSERT INTO attempt (slot, topology_id, version_hash, at, error) VALUES (2, 't2', 'h', 1, 'e')"
            )
        }
        #expect(throws: StoreError.self) { try raw.execute("UPDATE applied SET version_hash = ''") }
    }
}
