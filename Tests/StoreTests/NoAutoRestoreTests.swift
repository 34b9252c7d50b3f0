import Foundation
import Testing

@testable import AgentStore

/// As at DECNET, the store is a cache with no replay path (nothing re-applies from it at boot:
/// docs/deviations.md#contract), and opening it never rewrites what it holds.
@Suite("No auto-restore")
struct NoAutoRestoreTests {
    static let storeSources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Store")

    /// Like DECNET's `test_topology_store_has_no_restore_hook`: Swift has no runtime method list, so the module's
    /// sources are searched for a declaration with one of those names (any case, with or without a suffix).
    @Test func storeHasNoRestoreHook() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.storeSources.path)
            .filter { $0.hasSuffix(".swift") }
        #expect(files.contains("TopologyStore.swift"))
        let pattern = try Regex(#"(func|var|let|case)\s+(auto_?)?(restore|replay|reapply|rehydrate)\w*"#)
            .ignoresCase()
        var declarations = 0
        for file in files {
            let text = try String(contentsOf: Self.storeSources.appendingPathComponent(file), encoding: .utf8)
            declarations += text.matches(of: try Regex(#"\bfunc\s+\w+"#)).count
            let hits = text.matches(of: pattern).map { String(text[$0.range]) }
            #expect(hits.isEmpty, "\(file) declares \(hits)")
        }
        #expect(declarations > 15)  // the search really read the store's code
        #expect("func reapplyTopology()".contains(pattern))  // and the pattern finds what it is for
    }

    /// Like `test_seeded_db_survives_process_restart_verbatim`: reopening changes no row at all.
    @Test func openingDoesNotRewriteRows() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let dump =
            "SELECT 'applied', topology_id, version_hash, hydrated_json, applied_at, last_error FROM applied "
            + "UNION ALL SELECT 'attempt', topology_id, version_hash, at, error, NULL FROM attempt "
            + "UNION ALL SELECT 'request', id, fingerprint, type, started_at, result_json FROM request"
        do {
            let store = try TopologyStore(stateDirectory: dir.path, now: 1)
            try store.put(topologyID: "t-boot", versionHash: "h-boot", hydrated: trickyHydrated, at: 1)
            try store.recordError(topologyID: "t-boot", message: "last error")
            try store.recordAttempt(topologyID: "t-next", versionHash: "h-next", at: 2, error: "failed")
            _ = try store.beginRequest(id: "r1", fingerprint: "fp", type: "apply", at: 3)
            try store.finishRequest(id: "r1", result: Array("{}".utf8), at: 4)
            store.close()
        }
        let before = try RawDatabase(dir.database).rows(dump)
        #expect(before.count == 3)
        let store = try TopologyStore(stateDirectory: dir.path, now: 99)
        #expect(try store.totalChanges() == 0)
        #expect(try store.current()?.versionHash == "h-boot")
        store.close()
        #expect(try RawDatabase(dir.database).rows(dump) == before)
    }
}
