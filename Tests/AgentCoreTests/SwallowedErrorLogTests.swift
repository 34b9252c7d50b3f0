import AgentCore
import AgentProtocol
import DecnetJSON
import Foundation
import Logging
import TestSupport
import Testing
import Topology

@testable import AgentStore

/// Store writes and a roll-back an apply does on the side fail without changing the request's answer, and are
/// logged at warning with the request's and topology's ids (docs/architecture.md#logs). Faults come from SQLite triggers
/// added to the agent's own database, so only the one statement under test fails.
@Suite("Swallowed errors are logged")
struct SwallowedErrorLogTests {
    static let a = Topologies.two
    static let aID = "5d81934e-4a18-580f-bd50-6df4ca24a41a"
    static let b = Topologies.renamed(Topologies.two, id: "b1234567-0000-0000-0000-000000000000")
    static let bID = "b1234567-0000-0000-0000-000000000000"

    /// Makes every `event` (INSERT, UPDATE or DELETE) on `table` fail with `injected`.
    static func failing(_ h: Harness, _ event: String, on table: String) throws {
        try h.store.withConnection("inject a fault") { (c) throws(StoreError) in
            try c.execute(
                script: "CREATE TRIGGER injected_\(table)_\(event) BEFORE \(event) ON \(table) "
                    + "BEGIN SELECT RAISE(ABORT, 'injected'); END;",
                operation: "inject a fault"
            )
        }
    }

    /// Runs `frames` through a dispatcher, each to its result.
    static func dispatch(_ h: Harness, _ frames: [(id: String, frame: [UInt8])]) async throws {
        let (stream, feed) = AsyncStream<[UInt8]>.makeStream()
        let dispatcher = h.dispatcher()
        let task = Task { await dispatcher.run(frames: stream) }
        for (id, frame) in frames {
            feed.yield(frame)
            _ = try await h.result(of: id)
        }
        feed.finish()
        await task.value
    }

    static func apply(_ id: String, _ t: JSONValue, supersede: Bool = false) -> (id: String, frame: [UInt8]) {
        let request = ApplyRequest(hydrated: t, versionHash: CanonicalHash.hash(t), supersede: supersede)
        return (id, Messages.frame(OutgoingRequest(id: id, .apply(request)).jsonValue))
    }

    /// The one warning with `message`, after checking there is exactly one.
    static func warning(_ capture: LogCapture, _ message: String) throws -> LogCapture.Entry {
        let found = capture.entries(.warning, message)
        #expect(found.count == 1, "\(capture.lines.joined(separator: "\n"))")
        return try #require(found.first)
    }

    @Test func aFailedClearOfTheSupersededTopologyIsLoggedBeforeTheRecordRefuses() async throws {
        let capture = LogCapture()
        let h = try Harness(logger: capture.logger("test.agent"))
        try await Self.dispatch(h, [Self.apply("a1", Self.a)])
        try Self.failing(h, "DELETE", on: "applied")
        try await Self.dispatch(h, [Self.apply("b1", Self.b, supersede: true)])
        // As before: the old row is still there, so recording the new topology is refused.
        let result = try #require(try h.results(id: "b1").last)
        #expect(result.status == 500 && result.error?.details["store"] == "already_applied", "\(result)")
        let entry = try Self.warning(capture, "cannot clear the superseded topology from the store")
        #expect(entry.metadata["request_id"] == "b1")
        #expect(entry.metadata["topology_id"] == Self.bID)
        #expect(entry.metadata["superseded_topology_id"] == Self.aID)
        #expect(entry.metadata["error"]?.contains("injected") == true)
    }

    @Test func aFailedPruneIsLoggedAndTheResultIsStillStored() async throws {
        let capture = LogCapture()
        let h = try Harness(logger: capture.logger("test.agent"))
        // More than the store keeps, all older than its retention, so the prune after the next request deletes.
        try h.store.withConnection("old results") { (c) throws(StoreError) in
            try c.execute(
                script: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1010)
                    INSERT INTO request (id, fingerprint, type, started_at, status, finished_at, result_json)
                    SELECT 'old-' || i, 'f', 'apply', 0, 'finished', 0, '{}' FROM n;
                    """,
                operation: "old results"
            )
        }
        try Self.failing(h, "DELETE", on: "request")
        try await Self.dispatch(h, [Self.apply("p1", Self.a)])
        #expect(try h.results(id: "p1").last?.status == 200)
        let entry = try Self.warning(capture, "cannot prune old request results")
        #expect(entry.metadata["request_id"] == "p1")
        #expect(entry.metadata["topology_id"] == Self.aID)
        #expect(entry.metadata["error"]?.contains("injected") == true)
        // The result itself was stored: a retry is answered from the store.
        let begin = try h.store.beginRequest(id: "p1", fingerprint: "other", type: "apply", at: 0)
        #expect(begin == .reused)
    }

    @Test func aFailedRollBackAfterAFailedRecordIsLogged() async throws {
        let capture = LogCapture()
        let h = try Harness(logger: capture.logger("test.agent"))
        try Self.failing(h, "INSERT", on: "applied")
        h.runtime.update { $0.failPhase = "teardown" }  // materialise succeeds; the roll-back's teardown fails
        let outcome = await h.operations.apply(Topologies.apply(Self.a), requestID: "r1", progress: noProgress)
        guard case .failure(let error) = outcome else {
            Issue.record("an apply that could not be recorded succeeded")
            return
        }
        #expect(error.code == .internal && error.details["phase"] == "record")
        let entry = try Self.warning(capture, "cannot roll back an apply that could not be recorded")
        #expect(entry.metadata["request_id"] == "r1")
        #expect(entry.metadata["topology_id"] == Self.aID)
        #expect(entry.metadata["phase"] == "teardown")
    }

    @Test func failedErrorAndAttemptRecordsAreLogged() async throws {
        let capture = LogCapture()
        let h = try Harness(logger: capture.logger("test.agent"))
        _ = try await h.operations.apply(Topologies.apply(Self.a), progress: noProgress).get()
        try Self.failing(h, "UPDATE", on: "applied")
        try Self.failing(h, "INSERT", on: "attempt")
        h.runtime.update { $0.failPhase = "images" }
        let a2 = Topologies.withServices(Self.a, decky: 0, ["ssh", "http"])
        let outcome = await h.operations.apply(Topologies.apply(a2), requestID: "e1", progress: noProgress)
        guard case .failure(let error) = outcome else {
            Issue.record("failure not reported")
            return
        }
        #expect(error.code == .runtimeError)
        let recorded = try Self.warning(capture, "cannot record the failed re-apply's error on the applied topology")
        #expect(recorded.metadata["request_id"] == "e1" && recorded.metadata["topology_id"] == Self.aID)
        #expect(recorded.metadata["apply_error"]?.contains("no such image") == true)
        // Two attempts were written and refused: "apply did not complete" first, then the failure itself.
        let attempts = capture.entries(.warning, "cannot record the apply attempt")
        #expect(attempts.count == 2)
        #expect(attempts.allSatisfy { $0.metadata["request_id"] == "e1" && $0.metadata["topology_id"] == Self.aID })
        #expect(attempts.last?.metadata["attempt"]?.contains("runtime_error") == true)
    }
}
