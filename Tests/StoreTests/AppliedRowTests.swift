import DecnetJSON
import Testing

@testable import AgentStore

/// DECNET's store rules (one topology per agent, idempotent re-put, errors annotate the applied row, clear is
/// idempotent) plus docs/deviations.md#attempts (failed applies live in `attempt`) and docs/deviations.md#supersede
/// (the store still refuses another topology, naming the applied id; superseding tears the old one down first).
@Suite("Applied topology and attempts")
struct AppliedRowTests {
    @Test func idleByDefault() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        #expect(try store.current() == nil)
        #expect(try store.lastAttempt() == nil)
    }

    @Test func putThenCurrent() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        try store.put(topologyID: "t1", versionHash: hash64, hydrated: trickyHydrated, at: 1_776_749_115)
        let row = try #require(try store.current())
        #expect(row.topologyID == "t1")
        #expect(row.versionHash == hash64)
        #expect(row.hydrated == trickyHydrated)
        #expect(row.appliedAt == 1_776_749_115)
        #expect(row.lastError == nil)
    }

    /// The blob is stored as our encoder's text and parsed back to the same value with the same text: big integers,
    /// `1.0` against `1`, `-0.0`, key order and raw UTF-8 all survive.
    @Test func hydratedRoundTripsExactly() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        try store.put(topologyID: "t1", versionHash: hash64, hydrated: trickyHydrated, at: 1)
        let expected = PythonJSONEncoder().encode(trickyHydrated)
        let back = try #require(try store.current()).hydrated
        #expect(PythonJSONEncoder().encode(back) == expected)
        #expect(back["float_one"] == .float(1.0))
        #expect(back["int_one"] == .integer(JSONInteger(1)))
        #expect(back.objectValue?.keys.first == "topology")
        let raw = try RawDatabase(dir.database)
        let stored = try #require(try raw.rows("SELECT hydrated_json FROM applied").first?.first ?? nil)
        #expect(Array(stored.utf8) == expected)
        #expect(stored.contains("zéta ☃"))
        #expect(stored.contains("123456789012345678901234567890123"))
    }

    @Test func sameIdIsAnIdempotentUpdate() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        try store.put(topologyID: "t1", versionHash: "hash-a", hydrated: ["k": 1], at: 10)
        try store.recordError(topologyID: "t1", message: "boom")
        try store.recordAttempt(topologyID: "t1", versionHash: "hash-b", at: 15, error: "compose failed")
        try store.put(topologyID: "t1", versionHash: "hash-b", hydrated: ["k": 2], at: 20)
        let row = try #require(try store.current())
        #expect(row.versionHash == "hash-b")
        #expect(row.hydrated == ["k": 2])
        #expect(row.appliedAt == 20)
        #expect(row.lastError == nil)
        #expect(try store.lastAttempt() == nil)
        let raw = try RawDatabase(dir.database)
        #expect(try raw.int("SELECT count(*) FROM applied") == 1)
    }

    @Test func differentIdIsRejectedWithTheAppliedId() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        try store.put(topologyID: "t1", versionHash: "hash-a", hydrated: ["k": 1], at: 10)
        let error = try #require(throws: StoreError.self) {
            try store.put(topologyID: "t2", versionHash: "hash-b", hydrated: ["k": 2], at: 20)
        }
        #expect(error.code == .alreadyApplied)
        #expect(error.existingTopologyID == "t1")
        let row = try #require(try store.current())
        #expect(row.topologyID == "t1")
        #expect(row.versionHash == "hash-a")
    }

    /// Ids come from JSON and are compared by code points: "é" precomposed and decomposed are different topologies,
    /// although Swift's `==` calls them equal.
    @Test func idsCompareByCodePoints() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        let composed = "caf\u{E9}"
        let decomposed = "cafe\u{301}"
        #expect(composed == decomposed)  // the trap this test is about
        try store.put(topologyID: composed, versionHash: "h", hydrated: [:], at: 1)
        let error = try #require(throws: StoreError.self) {
            try store.put(topologyID: decomposed, versionHash: "h", hydrated: [:], at: 2)
        }
        #expect(error.code == .alreadyApplied)
        #expect(try store.recordError(topologyID: decomposed, message: "x") == false)
        #expect(try store.clear(topologyID: decomposed) == false)
        #expect(try store.clear(topologyID: composed) == true)
    }

    /// A failed re-apply keeps the old, complete hash and shows the error; the next successful put clears it.
    @Test func recordErrorThenPutClears() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        try store.put(topologyID: "t1", versionHash: "hash-a", hydrated: ["k": 1], at: 10)
        #expect(try store.recordError(topologyID: "t1", message: "compose up failed") == true)
        var row = try #require(try store.current())
        #expect(row.lastError == "compose up failed")
        #expect(row.versionHash == "hash-a")
        #expect(row.appliedAt == 10)
        try store.put(topologyID: "t1", versionHash: "hash-a", hydrated: ["k": 1], at: 30)
        row = try #require(try store.current())
        #expect(row.lastError == nil)
    }

    /// docs/deviations.md#attempts: no marker row; a failed first apply is an attempt and the applied state stays idle.
    @Test func recordErrorWithoutAppliedRowChangesNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        #expect(try store.recordError(topologyID: "t1", message: "boom") == false)
        #expect(try store.current() == nil)
        try store.put(topologyID: "t1", versionHash: "hash-a", hydrated: [:], at: 1)
        #expect(try store.recordError(topologyID: "other", message: "boom") == false)
        #expect(try store.current()?.lastError == nil)
    }

    @Test func clearIsIdempotentAndOnlyForTheAppliedId() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        try store.put(topologyID: "t1", versionHash: "hash-a", hydrated: [:], at: 1)
        #expect(try store.clear(topologyID: "t2") == false)
        #expect(try store.current()?.topologyID == "t1")
        #expect(try store.clear(topologyID: "t1") == true)
        #expect(try store.current() == nil)
        #expect(try store.clear(topologyID: "t1") == false)
        try store.put(topologyID: "t2", versionHash: "hash-b", hydrated: [:], at: 2)
        #expect(try store.current()?.topologyID == "t2")
    }

    @Test func persistsAcrossReopen() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            let store = try TopologyStore(stateDirectory: dir.path)
            try store.put(topologyID: "t1", versionHash: hash64, hydrated: trickyHydrated, at: 5)
            try store.recordAttempt(topologyID: "t2", versionHash: "hash-x", at: 6, error: "port_conflict")
            store.close()
        }
        let store = try TopologyStore(stateDirectory: dir.path)
        let row = try #require(try store.current())
        let expected = AppliedTopology(
            topologyID: "t1",
            versionHash: hash64,
            hydrated: trickyHydrated,
            appliedAt: 5,
            lastError: nil
        )
        #expect(row == expected)
        let attempt = ApplyAttempt(topologyID: "t2", versionHash: "hash-x", at: 6, error: "port_conflict")
        #expect(try store.lastAttempt() == attempt)
    }

    @Test func attemptIsOneRowReplacedAndCleared() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        try store.recordAttempt(topologyID: "t1", versionHash: "hash-a", at: 1, error: "first")
        try store.recordAttempt(topologyID: "t2", versionHash: "hash-b", at: 2, error: "second")
        let second = ApplyAttempt(topologyID: "t2", versionHash: "hash-b", at: 2, error: "second")
        #expect(try store.lastAttempt() == second)
        #expect(try store.current() == nil)  // a failed apply never names an applied hash
        let raw = try RawDatabase(dir.database)
        #expect(try raw.int("SELECT count(*) FROM attempt") == 1)
        #expect(try store.clearAttempt() == true)
        #expect(try store.clearAttempt() == false)
        #expect(try store.lastAttempt() == nil)
    }

    /// A put of another topology that is refused leaves the attempt alone (only a successful apply clears it).
    @Test func refusedPutKeepsAttempt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        try store.put(topologyID: "t1", versionHash: "hash-a", hydrated: [:], at: 1)
        try store.recordAttempt(topologyID: "t2", versionHash: "hash-b", at: 2, error: "conflict")
        #expect(throws: StoreError.self) {
            try store.put(topologyID: "t2", versionHash: "hash-b", hydrated: [:], at: 3)
        }
        #expect(try store.lastAttempt()?.topologyID == "t2")
    }

    @Test func snapshotReadsBoth() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        var snapshot = try store.snapshot()
        #expect(snapshot.applied == nil && snapshot.attempt == nil)
        try store.put(topologyID: "t1", versionHash: "hash-a", hydrated: [:], at: 1)
        try store.recordAttempt(topologyID: "t1", versionHash: "hash-b", at: 2, error: "e")
        snapshot = try store.snapshot()
        #expect(snapshot.applied?.versionHash == "hash-a")
        #expect(snapshot.attempt?.versionHash == "hash-b")
    }

    /// `current()` keeps the parsed blob between calls; a row changed by another connection is still seen at once.
    @Test func currentSeesChangesFromAnotherConnection() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        try store.put(topologyID: "t1", versionHash: "hash-a", hydrated: ["k": 1], at: 1)
        #expect(try store.current()?.hydrated == ["k": 1])
        #expect(try store.current()?.hydrated == ["k": 1])
        try RawDatabase(dir.database).execute(#"UPDATE applied SET hydrated_json = '{"k":2}', version_hash = 'hash-b'"#)
        #expect(try store.current()?.hydrated == ["k": 2])
        #expect(try store.snapshot().applied?.versionHash == "hash-b")
        try store.put(topologyID: "t1", versionHash: "hash-c", hydrated: ["k": 1.0], at: 3)
        #expect(try store.current()?.hydrated["k"] == .float(1.0))
    }

    /// A blob damaged behind the store's back is reported as `corrupt`, not a crash.
    @Test func unparsableBlobIsCorrupt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        try store.put(topologyID: "t1", versionHash: "hash-a", hydrated: [:], at: 1)
        try RawDatabase(dir.database).execute("UPDATE applied SET hydrated_json = '{not json'")
        let error = try #require(throws: StoreError.self) { try store.current() }
        #expect(error.code == .corrupt)
    }

    @Test func closedStoreThrowsClosed() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TopologyStore(stateDirectory: dir.path)
        store.close()
        store.close()
        let error = try #require(throws: StoreError.self) { try store.current() }
        #expect(error.code == .closed)
    }
}
