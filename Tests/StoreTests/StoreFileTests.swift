import Foundation
import Testing

@testable import AgentStore

/// The file itself: private modes, connection settings, and environment failures that must throw, not trap.
@Suite("Store file and settings")
struct StoreFileTests {
    @Test func databaseAndSiblingsAreMode0600() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let state = dir.file("state/nested")
        let previous = umask(0o022)  // the usual umask would give 0644
        defer { umask(previous) }
        let store = try TopologyStore(stateDirectory: state)
        try store.put(topologyID: "t1", versionHash: "h", hydrated: [:], at: 1)
        // While the store is open, WAL keeps the -wal and -shm files next to the database.
        for name in ["agent.db", "agent.db-wal", "agent.db-shm"] {
            #expect(StoreFiles.mode(of: state + "/" + name) == 0o600, "\(name)")
        }
        #expect(StoreFiles.mode(of: state) == 0o700)
        #expect(StoreFiles.mode(of: dir.file("state")) == 0o700)
    }

    /// A DECNET topology.db is usually 0644: opening it tightens it and any sibling left behind.
    @Test func looseExistingFilesAreTightened() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            let store = try TopologyStore(stateDirectory: dir.path)
            store.close()
        }
        chmod(dir.database, 0o644)
        #expect(
            FileManager.default.createFile(
                atPath: dir.database + "-journal",
                contents: nil,
                attributes: [.posixPermissions: 0o666]
            )
        )
        let store = try TopologyStore(stateDirectory: dir.path)
        #expect(StoreFiles.mode(of: dir.database) == 0o600)
        #expect(StoreFiles.mode(of: dir.database + "-journal") == 0o600)
        store.close()
    }

    @Test func connectionSettings() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        #expect(try store.scalar("PRAGMA journal_mode") == "wal")
        #expect(try store.scalar("PRAGMA synchronous") == "2")  // FULL
        #expect(try store.scalar("PRAGMA foreign_keys") == "1")
        #expect(try store.scalar("PRAGMA busy_timeout") == String(TopologyStore.busyTimeoutMilliseconds))
        #expect(try store.scalar("PRAGMA application_id") == String(StoreSchema.applicationID))
        #expect(try store.integrityCheck() == ["ok"])
    }

    /// A read-only store reads, and every write throws `readOnly`.
    @Test func readOnlyAccessRefusesWrites() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            let store = try TopologyStore(stateDirectory: dir.path)
            try store.put(topologyID: "t1", versionHash: "h", hydrated: ["a": 1], at: 1)
            _ = try store.beginRequest(id: "r1", fingerprint: "fp", type: "apply", at: 1)
        }
        let store = try TopologyStore(stateDirectory: dir.path, access: .readOnly)
        #expect(try store.current()?.topologyID == "t1")
        let writes: [(String, () throws -> Void)] = [
            ("put", { try store.put(topologyID: "t1", versionHash: "h2", hydrated: [:], at: 2) }),
            ("recordError", { try store.recordError(topologyID: "t1", message: "x") }),
            ("clear", { try store.clear(topologyID: "t1") }),
            ("recordAttempt", { try store.recordAttempt(topologyID: "t1", versionHash: "h", at: 1, error: "e") }),
            ("beginRequest", { _ = try store.beginRequest(id: "r2", fingerprint: "fp", type: "apply", at: 1) }),
            ("finishRequest", { try store.finishRequest(id: "r1", result: Array("{}".utf8), at: 1) }),
            ("prune", { try store.prune(now: .max / 2, keep: 0) }),
        ]
        for (name, write) in writes {
            let error = try #require(throws: StoreError.self, "\(name)") { try write() }
            #expect(error.code == .readOnly, "\(name): \(error)")
            #expect(error.sqliteCode == 8, "\(name)")  // SQLITE_READONLY
        }
        // The running request stays running: a read-only open fixes nothing up.
        #expect(try RawDatabase(dir.database).int("SELECT count(*) FROM request WHERE status = 'running'") == 1)
    }

    @Test func readOnlyAccessToAMissingFileThrows() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let error = try #require(throws: StoreError.self) {
            try TopologyStore(stateDirectory: dir.file("missing"), access: .readOnly)
        }
        #expect(error.code == .io)
        #expect(error.sqliteCode == 14)  // SQLITE_CANTOPEN
        #expect(!FileManager.default.fileExists(atPath: dir.file("missing")))
    }

    @Test func garbageFileIsCorrupt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        #expect(FileManager.default.createFile(atPath: dir.database, contents: garbage))
        let error = try #require(throws: StoreError.self) { try TopologyStore(stateDirectory: dir.path) }
        #expect(error.code == .corrupt)
        #expect(error.sqliteCode == 26)  // SQLITE_NOTADB
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.database)) == garbage)
    }

    @Test func directoryInPlaceOfTheFileThrows() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        mkdir(dir.database, 0o700)
        let error = try #require(throws: StoreError.self) { try TopologyStore(stateDirectory: dir.path) }
        #expect(error.code == .io)
    }

    @Test func fileInPlaceOfTheDirectoryThrows() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        #expect(FileManager.default.createFile(atPath: dir.file("state"), contents: Data()))
        let error = try #require(throws: StoreError.self) { try TopologyStore(stateDirectory: dir.file("state/sub")) }
        #expect(error.code == .io)
        #expect(error.errno == ENOTDIR)
    }

    @Test func errorCodesFromSQLiteResults() {
        #expect(StoreError.Code(sqliteResult: 13) == .diskFull)  // SQLITE_FULL
        #expect(StoreError.Code(sqliteResult: 778) == .io)  // SQLITE_IOERR_WRITE
        #expect(StoreError.Code(sqliteResult: 11) == .corrupt)  // SQLITE_CORRUPT
        #expect(StoreError.Code(sqliteResult: 5) == .busy)  // SQLITE_BUSY
        #expect(StoreError.Code(sqliteResult: 1032) == .readOnly)  // SQLITE_READONLY_DBMOVED
        #expect(StoreError.Code(sqliteResult: 2067) == .sqlite)  // SQLITE_CONSTRAINT_UNIQUE
        #expect(StoreError.system(EROFS, operation: "x").code == .readOnly)
        #expect(StoreError.system(ENOSPC, operation: "x").code == .diskFull)
    }
}
