import AgentStore

/// The master store's schema, keyed by `PRAGMA user_version` as the agent's store is (docs/control-channel.md#master-store).
///
/// * Version 0: an empty file (a new store).
/// * Version 1: `desired`, `request`, `agent`, `applied_here`, `metadata`; STRICT tables.
///
/// A file with a newer version, another `application_id`, or unversioned tables is refused, never written to.
enum MasterStoreSchema {
    static let currentVersion: Int64 = 1
    /// `PRAGMA application_id`: "DCNM" in ASCII (the agent's store is "DCNA").
    static let applicationID: Int64 = 0x4443_4E4D

    static let version1 = """
        CREATE TABLE desired (
            agent_id TEXT PRIMARY KEY,
            topology_id TEXT CHECK (topology_id <> ''),
            version_hash TEXT,
            hydrated_json TEXT,
            supersede INTEGER NOT NULL CHECK (supersede IN (0, 1)),
            request_id TEXT NOT NULL,
            set_at INTEGER NOT NULL,
            CHECK ((topology_id IS NULL) = (version_hash IS NULL)),
            CHECK ((topology_id IS NULL) = (hydrated_json IS NULL))
        ) STRICT;
        CREATE TABLE request (
            agent_id TEXT NOT NULL,
            id TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('apply', 'teardown')),
            fingerprint TEXT NOT NULL,
            request_json TEXT NOT NULL,
            origin TEXT NOT NULL CHECK (origin IN ('operator', 'reconcile', 'submit')),
            created_at INTEGER NOT NULL,
            deadline_at INTEGER NOT NULL,
            finished_at INTEGER,
            outcome_json TEXT,
            PRIMARY KEY (agent_id, id),
            CHECK ((finished_at IS NULL) = (outcome_json IS NULL))
        ) STRICT;
        CREATE INDEX request_open ON request (agent_id, id) WHERE finished_at IS NULL;
        CREATE INDEX request_finished ON request (finished_at) WHERE finished_at IS NOT NULL;
        CREATE TABLE agent (
            agent_id TEXT PRIMARY KEY,
            paused INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
            seen_at INTEGER,
            state_json TEXT
        ) STRICT;
        CREATE TABLE applied_here (
            agent_id TEXT NOT NULL,
            topology_id TEXT NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (agent_id, topology_id)
        ) STRICT;
        CREATE TABLE metadata (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) STRICT;
        """

    /// Brings the file to ``currentVersion``; answers the version it found.
    @discardableResult
    static func migrate(_ connection: Connection, now: Int64) throws(StoreError) -> Int64 {
        let found = try check(connection)
        guard found < currentVersion else { return found }
        return try connection.transaction(operation: "migrate") { () throws(StoreError) -> Int64 in
            let version = try check(connection)
            if version == 0 {
                let tables = try connection.rows(
                    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                    operation: "migrate"
                ) { $0.text(0) ?? "" }
                guard tables.isEmpty else {
                    throw StoreError(
                        code: .unknownSchema,
                        operation: "open \(connection.path)",
                        message: "an unversioned database with tables \(tables.sorted()); refusing to touch it"
                    )
                }
                try connection.execute(script: version1, operation: "migrate")
                try connection.run(
                    "INSERT INTO metadata (key, value) VALUES ('created_at', ?)",
                    [.text(String(now))],
                    operation: "migrate"
                )
            }
            try connection.run("PRAGMA application_id = \(applicationID)", operation: "migrate")
            try connection.run("PRAGMA user_version = \(currentVersion)", operation: "migrate")
            return version
        }
    }

    /// Reads the file's version and refuses what we must not touch.
    static func check(_ connection: Connection) throws(StoreError) -> Int64 {
        try connection.schemaVersion(applicationID: applicationID, knownUpTo: currentVersion, writer: "master")
    }
}
