import CSQLite

/// The store's schema and its forward migrations, keyed by `PRAGMA user_version`.
///
/// * Version 0: an empty file, or DECNET's own `topology.db` (table `applied_topology`, at most one row meant).
/// * Version 1: this agent's first schema (`version1`). Tables are STRICT; a `slot` key fixed to 1 enforces at most
///   one applied row and at most one attempt row. A request a crashed process left running was given a stored
///   `result_json` at the next open.
/// * Version 2: a request row records its `status` (`running`, `finished`, `interrupted`) instead
///   (`version2Request`); only a finished request has `result_json`. The store knows no wire format: the dispatcher
///   turns `interrupted` into the answer the master receives.
///
/// Migrations run at open, in one `BEGIN IMMEDIATE` transaction with the version check repeated inside it, so two
/// processes opening an old file at once migrate it once. A file with a newer version is refused (`schemaTooNew`),
/// never downgraded; a version-0 file holding other tables is refused too (`unknownSchema`), never written to.
enum StoreSchema {
    /// The version this code writes and understands.
    static let currentVersion: Int64 = 2
    /// `PRAGMA application_id` of our files: "DCNA" in ASCII, so `file(1)` and a later open can tell it apart.
    static let applicationID: Int64 = 0x4443_4E41

    /// DECNET's table and columns (seed `decnet/agent/topology_store.py`).
    static let seedTable = "applied_topology"
    static let seedColumns: Set<String> = [
        "topology_id", "applied_version_hash", "hydrated_blob_json", "applied_at", "last_error",
    ]

    static let version1 = """
        CREATE TABLE applied (
            slot INTEGER PRIMARY KEY CHECK (slot = 1),
            topology_id TEXT NOT NULL CHECK (topology_id <> ''),
            version_hash TEXT NOT NULL CHECK (version_hash <> ''),
            hydrated_json TEXT NOT NULL,
            applied_at INTEGER NOT NULL,
            last_error TEXT
        ) STRICT;
        CREATE TABLE attempt (
            slot INTEGER PRIMARY KEY CHECK (slot = 1),
            topology_id TEXT NOT NULL,
            version_hash TEXT NOT NULL,
            at INTEGER NOT NULL,
            error TEXT NOT NULL
        ) STRICT;
        CREATE TABLE request (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            fingerprint TEXT NOT NULL,
            type TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            finished_at INTEGER,
            result_json TEXT,
            CHECK ((finished_at IS NULL) = (result_json IS NULL))
        ) STRICT;
        CREATE INDEX request_running ON request (seq) WHERE result_json IS NULL;
        CREATE TABLE metadata (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) STRICT;
        """

    /// Version 1 → 2: the request table rebuilt with its `status` (a STRICT table's checks cannot be altered in
    /// place). Running rows stay running (the open then marks them interrupted); every stored result, including the
    /// interrupted envelope a version-1 agent wrote, stays `finished` with its bytes, so a retry still gets them
    /// verbatim.
    static let version2Request = """
        CREATE TABLE request_v2 (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            fingerprint TEXT NOT NULL,
            type TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'interrupted')),
            finished_at INTEGER,
            result_json TEXT,
            CHECK ((status = 'running') = (finished_at IS NULL)),
            CHECK ((status = 'finished') = (result_json IS NOT NULL))
        ) STRICT;
        INSERT INTO request_v2 (seq, id, fingerprint, type, started_at, status, finished_at, result_json)
        SELECT seq, id, fingerprint, type, started_at,
               CASE WHEN result_json IS NULL THEN 'running' ELSE 'finished' END, finished_at, result_json
        FROM request ORDER BY seq;
        DROP TABLE request;
        ALTER TABLE request_v2 RENAME TO request;
        CREATE INDEX request_running ON request (seq) WHERE status = 'running';
        """

    /// Brings the file to `currentVersion`; answers the version it found (0 for a new or DECNET file).
    @discardableResult
    static func migrate(_ connection: Connection, readOnly: Bool, now: Int64) throws(StoreError) -> Int64 {
        let found = try check(connection)
        guard found < currentVersion else { return found }
        guard !readOnly else {
            throw StoreError(
                code: .readOnly,
                operation: "migrate",
                message: "schema version \(found) needs a migration to \(currentVersion), but the store is read-only"
            )
        }
        return try connection.transaction(operation: "migrate") { () throws(StoreError) -> Int64 in
            let version = try check(connection)  // another process may have migrated meanwhile
            if version == 0 { try migrateFrom0(connection, now: now) }
            if version <= 1 { try connection.execute(script: version2Request, operation: "migrate from version 1") }
            try connection.run("PRAGMA application_id = \(applicationID)", operation: "migrate")
            try connection.run("PRAGMA user_version = \(currentVersion)", operation: "migrate")
            return version
        }
    }

    /// Reads the file's version and refuses what we must not touch.
    static func check(_ connection: Connection) throws(StoreError) -> Int64 {
        try connection.schemaVersion(applicationID: applicationID, knownUpTo: currentVersion, writer: "agent")
    }

    /// Version 0 → 1: creates our tables and carries over DECNET's applied row, if any.
    private static func migrateFrom0(_ connection: Connection, now: Int64) throws(StoreError) {
        let operation = "migrate from version 0"
        let tables = try connection.rows(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
            operation: operation
        ) { $0.text(0) ?? "" }
        let fromSeed: Bool
        switch tables {
        case []: fromSeed = false
        case [seedTable]:
            let columns = try connection.rows("PRAGMA table_info(\(seedTable))", operation: operation) {
                $0.text(1) ?? ""
            }
            guard seedColumns.isSubset(of: columns) else {
                throw StoreError(
                    code: .unknownSchema,
                    operation: operation,
                    message: "table \(seedTable) lacks DECNET's columns (has \(columns.sorted()))"
                )
            }
            fromSeed = true
        default:
            throw StoreError(
                code: .unknownSchema,
                operation: operation,
                message: "an unversioned database with unknown tables \(tables.sorted()); refusing to touch it"
            )
        }
        try connection.execute(script: version1, operation: operation)
        try connection.run(
            "INSERT INTO metadata (key, value) VALUES ('created_at', ?), ('created_from', ?)",
            [.text(String(now)), .text(fromSeed ? "decnet-topology-db" : "empty")],
            operation: operation
        )
        guard fromSeed else { return }
        try carrySeedRow(connection, operation: operation)
        try connection.run("DROP TABLE \(seedTable)", operation: operation)
    }

    /// Copies the row DECNET's `current()` would report (the first by rowid) verbatim. A marker row with an empty
    /// hash (DECNET's later `record_error` upsert after a failed first apply) names no completely applied hash, so it
    /// becomes the `attempt` row instead (docs/deviations.md#attempts).
    private static func carrySeedRow(_ connection: Connection, operation: String) throws(StoreError) {
        let select = """
            SELECT CAST(applied_version_hash AS TEXT) = '' FROM \(seedTable) ORDER BY rowid LIMIT 1
            """
        guard let isMarker = try connection.row(select, operation: operation, { $0.int64(0) != 0 }) else { return }
        if isMarker {
            try connection.run(
                """
                INSERT INTO attempt (slot, topology_id, version_hash, at, error)
                SELECT 1, CAST(topology_id AS TEXT), '', CAST(applied_at AS INTEGER),
                       COALESCE(CAST(last_error AS TEXT), '')
                FROM \(seedTable) ORDER BY rowid LIMIT 1
                """,
                operation: operation
            )
        } else {
            try connection.run(
                """
                INSERT INTO applied (slot, topology_id, version_hash, hydrated_json, applied_at, last_error)
                SELECT 1, CAST(topology_id AS TEXT), CAST(applied_version_hash AS TEXT),
                       CAST(hydrated_blob_json AS TEXT), CAST(applied_at AS INTEGER), CAST(last_error AS TEXT)
                FROM \(seedTable) ORDER BY rowid LIMIT 1
                """,
                operation: operation
            )
        }
    }
}
