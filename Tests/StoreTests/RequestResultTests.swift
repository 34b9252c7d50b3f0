import DecnetJSON
import Foundation
import Testing

@testable import AgentStore

/// Request results for safe retries (docs/wire-protocol.md#delivery).
@Suite("Request results")
struct RequestResultTests {
    static let okResult: JSONValue = [
        "proto": 1, "type": "result", "id": "r1", "status": 200,
        "body": ["status": "applied", "version_hash": JSONValue(hash64)],
    ]

    @Test func newRunningFinishedReused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        #expect(try store.beginRequest(id: "r1", fingerprint: "fp-1", type: "apply", at: 10) == .new)
        #expect(try store.beginRequest(id: "r1", fingerprint: "fp-1", type: "apply", at: 11) == .running)
        #expect(try store.beginRequest(id: "r1", fingerprint: "fp-2", type: "apply", at: 11) == .reused)
        #expect(try store.finishRequest(id: "r1", result: Self.okResult, at: 12) == true)
        let expected = PythonJSONEncoder().encode(Self.okResult)
        #expect(
            try store.beginRequest(id: "r1", fingerprint: "fp-1", type: "apply", at: 13)
                == .finished(resultJSON: expected)
        )
        #expect(try store.beginRequest(id: "r1", fingerprint: "fp-2", type: "teardown", at: 13) == .reused)
        #expect(try store.beginRequest(id: "r2", fingerprint: "fp-1", type: "apply", at: 14) == .new)
    }

    /// A stored result is never overwritten, and finishing an unknown id does nothing.
    @Test func finishOnlyFinishesRunningRequests() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        #expect(try store.finishRequest(id: "nope", result: Array("{}".utf8), at: 1) == false)
        #expect(try store.beginRequest(id: "r1", fingerprint: "fp", type: "state", at: 1) == .new)
        #expect(try store.finishRequest(id: "r1", result: Array(#"{"first":true}"#.utf8), at: 2) == true)
        #expect(try store.finishRequest(id: "r1", result: Array(#"{"second":true}"#.utf8), at: 3) == false)
        #expect(
            try store.beginRequest(id: "r1", fingerprint: "fp", type: "state", at: 4)
                == .finished(resultJSON: Array(#"{"first":true}"#.utf8))
        )
        let raw = try RawDatabase(dir.database)
        #expect(try raw.int("SELECT count(*) FROM request") == 1)
    }

    /// Results are bytes kept verbatim (raw UTF-8, any spacing).
    @Test func resultBytesAreVerbatim() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        let bytes = Array(#"{ "id" : "r1", "message": "déjà ☃", "n": 1.0 }"#.utf8)
        _ = try store.beginRequest(id: "r1", fingerprint: "fp", type: "apply", at: 1)
        try store.finishRequest(id: "r1", result: bytes, at: 2)
        #expect(
            try store.beginRequest(id: "r1", fingerprint: "fp", type: "apply", at: 3) == .finished(resultJSON: bytes)
        )
    }

    /// After a crash a running request is marked interrupted (with the time of the open), so a retry is answered and
    /// the request never runs twice; finished requests are untouched. The store writes no envelope of its own.
    @Test func runningRequestsAreInterruptedAtOpen() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            let store = try TopologyStore(stateDirectory: dir.path, now: 100)
            _ = try store.beginRequest(id: "apply-7", fingerprint: "fp-7", type: "apply", at: 100)
            _ = try store.beginRequest(id: "state-8", fingerprint: "fp-8", type: "state", at: 101)
            try store.finishRequest(id: "state-8", result: Array(#"{"ok":1}"#.utf8), at: 102)
            store.close()  // like a crash: apply-7 never finished
        }
        let store = try TopologyStore(stateDirectory: dir.path, now: 500)
        #expect(
            try store.beginRequest(id: "apply-7", fingerprint: "fp-7", type: "apply", at: 501) == .interrupted(at: 500)
        )
        #expect(try store.beginRequest(id: "apply-7", fingerprint: "fp-x", type: "apply", at: 501) == .reused)
        #expect(
            try store.beginRequest(id: "state-8", fingerprint: "fp-8", type: "state", at: 501)
                == .finished(resultJSON: Array(#"{"ok":1}"#.utf8))
        )
        #expect(try store.finishRequest(id: "apply-7", result: Array("{}".utf8), at: 502) == false)
        let raw = try RawDatabase(dir.database)
        #expect(
            try raw.rows("SELECT status, finished_at, result_json FROM request WHERE id = 'apply-7'")
                == [["interrupted", "500", nil]]
        )
        // A later open changes nothing: the interruption keeps its time.
        store.close()
        let reopened = try TopologyStore(stateDirectory: dir.path, now: 900)
        #expect(try reopened.totalChanges() == 0)
        #expect(
            try reopened.beginRequest(id: "apply-7", fingerprint: "fp-7", type: "apply", at: 901)
                == .interrupted(at: 500)
        )
    }

    /// Prune deletes only what is both older than 24 h and outside the newest 1,000; running rows always stay.
    @Test func pruneKeepsYoungAndNewest() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        let day = TopologyStore.requestRetentionSeconds
        let now: Int64 = 10 * day
        // 1,200 old finished requests, then one old running one, then 300 young finished ones.
        for i in 0..<1_200 {
            _ = try store.beginRequest(id: "old-\(i)", fingerprint: "f", type: "ping", at: now - 3 * day)
            try store.finishRequest(id: "old-\(i)", result: Array("{}".utf8), at: now - 2 * day)
        }
        _ = try store.beginRequest(id: "old-running", fingerprint: "f", type: "apply", at: now - 3 * day)
        for i in 0..<300 {
            _ = try store.beginRequest(id: "young-\(i)", fingerprint: "f", type: "ping", at: now - 60)
            try store.finishRequest(id: "young-\(i)", result: Array("{}".utf8), at: now - 60)
        }
        // Newest 1,000 = 300 young + old-running + old-501...old-1199 (699 rows); old-0...old-500 go.
        #expect(try store.prune(now: now) == 501)
        let raw = try RawDatabase(dir.database)
        #expect(try raw.int("SELECT count(*) FROM request") == 1_000)
        #expect(try raw.int("SELECT count(*) FROM request WHERE id = 'old-500'") == 0)
        #expect(try raw.int("SELECT count(*) FROM request WHERE id = 'old-501'") == 1)
        #expect(try store.prune(now: now) == 0)
        // Everything young stays even beyond the newest 1,000.
        #expect(try store.prune(now: now, keep: 10) == 699)
        #expect(try raw.int("SELECT count(*) FROM request WHERE id LIKE 'young-%'") == 300)
        #expect(try raw.int("SELECT count(*) FROM request WHERE id = 'old-running'") == 1)
        // Exactly 24 h old is not older than 24 h.
        #expect(try store.prune(now: now - 60 + day, keep: 0) == 0)
        #expect(try store.prune(now: now - 60 + day + 1, keep: 0) == 300)
        #expect(try store.beginRequest(id: "old-running", fingerprint: "f", type: "apply", at: now) == .running)
    }

    /// Many threads delivering the same request at once: exactly one of them executes it.
    @Test func concurrentBeginsYieldOneNew() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        let outcomes = await withTaskGroup(of: [RequestBegin].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    (0..<50).map { i in
                        (try? store.beginRequest(id: "r\(i)", fingerprint: "fp", type: "apply", at: 1)) ?? .reused
                    }
                }
            }
            var all: [[RequestBegin]] = []
            for await result in group { all.append(result) }
            return all
        }
        for i in 0..<50 {
            let column = outcomes.map { $0[i] }
            #expect(column.filter { $0 == .new }.count == 1)
            #expect(column.filter { $0 == .running }.count == 7)
        }
    }

    /// A second store (another process's connection) waits on the lock instead of failing.
    @Test func twoConnectionsShareTheFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let first = try TopologyStore(stateDirectory: dir.path)
        let second = try TopologyStore(stateDirectory: dir.path)
        #expect(try first.beginRequest(id: "r1", fingerprint: "fp", type: "apply", at: 1) == .new)
        #expect(try second.beginRequest(id: "r1", fingerprint: "fp", type: "apply", at: 1) == .running)
        try second.put(topologyID: "t1", versionHash: "h", hydrated: [:], at: 1)
        #expect(try first.current()?.topologyID == "t1")
    }
}
