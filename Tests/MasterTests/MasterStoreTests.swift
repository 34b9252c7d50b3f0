import AgentStore
import Foundation
import MasterStore
import TestSupport
import Testing

/// The master's store (docs/control-channel.md#master-store): private files, desired state and requests written
/// together, repeats and reused ids, outcomes, agents' reports, and what a reopened file still holds.
@Suite("Master store")
struct MasterStoreTests {
    static let hash = String(repeating: "c", count: 64)

    static func apply(_ id: String, agent: String = "host-1", at: Int64 = 1_000) -> StoredRequest {
        StoredRequest(
            agentID: agent,
            requestID: id,
            type: "apply",
            fingerprint: "fp-\(id)",
            request: Array(#"{"proto":1,"type":"apply","id":"\#(id)"}"#.utf8),
            origin: .operator,
            createdAt: at,
            deadlineAt: at + 60_000
        )
    }

    static func desired(_ id: String, agent: String = "host-1", topology: String? = "t-1") -> DesiredRecord {
        DesiredRecord(
            agentID: agent,
            topology: topology.map {
                .init(
                    id: $0,
                    versionHash: hash,
                    hydrated: Array(#"{"topology":{"id":"\#($0)"}}"#.utf8),
                    supersede: false
                )
            },
            requestID: id,
            setAt: 1_000
        )
    }

    @Test func filesArePrivateAndStateSurvivesReopening() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let state = directory.file("run")
        do {
            let store = try MasterStore(directory: state, now: 1)
            #expect(try store.recordDesire(Self.apply("m-1"), desired: Self.desired("m-1")) == .recorded)
            try store.setPaused("host-2", true)
            try store.saveReports([("host-1", 5_000, Array(#"{"topology_id":"t-1"}"#.utf8))])
            // While open: the database and its WAL siblings are the owner's only.
            for name in ["master.db", "master.db-wal", "master.db-shm"] {
                let attributes = try FileManager.default.attributesOfItem(atPath: state + "/" + name)
                #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o077 } == 0, "\(name)")
            }
            store.close()
            #expect(throws: StoreError.self) { try store.allDesired() }
        }
        let reopened = try MasterStore(directory: state, now: 2)
        #expect(try reopened.allDesired() == [Self.desired("m-1")])
        #expect(try reopened.appliedHere() == ["host-1": ["t-1"]])
        #expect(try reopened.unfinishedRequests().map(\.requestID) == ["m-1"])
        let agents = try reopened.agents()
        #expect(agents.map(\.agentID) == ["host-1", "host-2"])
        #expect(agents[0].seenAt == 5_000 && agents[0].state == Array(#"{"topology_id":"t-1"}"#.utf8))
        #expect(agents[1].paused)
    }

    @Test func desiresRepeatOrCollideWithoutWriting() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try MasterStore(directory: directory.path, now: 1)
        #expect(try store.recordDesire(Self.apply("m-1"), desired: Self.desired("m-1")) == .recorded)
        // The same id again: nothing written, even when the desired state it carries differs.
        guard
            case .repeated(let previous) = try store.recordDesire(
                Self.apply("m-1"),
                desired: Self.desired("m-1", topology: "t-2")
            )
        else {
            Issue.record("a repeat was not recognised")
            return
        }
        #expect(previous.requestID == "m-1")
        var other = Self.apply("m-1")
        other.fingerprint = "something else"
        #expect(try store.recordDesire(other, desired: Self.desired("m-1", topology: "t-3")) == .idReused)
        #expect(try store.desired("host-1")?.topology?.id == "t-1")
        // "none" replaces the topology; forget drops it.
        var teardown = Self.apply("m-2")
        teardown.type = "teardown"
        #expect(try store.recordDesire(teardown, desired: Self.desired("m-2", topology: nil)) == .recorded)
        #expect(try store.desired("host-1")?.topology == nil)
        #expect(try store.desired("host-1")?.requestID == "m-2")
        #expect(try store.forget("host-1"))
        #expect(try store.forget("host-1") == false)
        #expect(try store.allDesired().isEmpty)
        // forget keeps what the master applied there (docs/control-channel.md#desired).
        #expect(try store.appliedHere() == ["host-1": ["t-1"]])
    }

    @Test func outcomesAreWrittenOnceAndOldOnesTrimmed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try MasterStore(directory: directory.path, now: 1)
        var push = Self.apply("r-1")
        push.origin = .reconcile
        try store.recordRequest(push, appliedTopologyID: "t-9")
        try store.recordRequest(push, appliedTopologyID: "t-9")
        #expect(try store.unfinishedRequests().count == 1)
        #expect(try store.finish(agentID: "host-1", requestID: "r-1", outcome: Array("{}".utf8), at: 2_000))
        #expect(try store.finish(agentID: "host-1", requestID: "r-1", outcome: Array("[]".utf8), at: 3_000) == false)
        #expect(try store.request(agentID: "host-1", requestID: "r-1")?.outcome == Array("{}".utf8))
        #expect(try store.request(agentID: "host-1", requestID: "r-1")?.origin == .reconcile)
        #expect(try store.unfinishedRequests().isEmpty)
        #expect(try store.appliedHere()["host-1"] == ["t-9"])
        // Older than the keep period, but among the newest 1,000: kept.
        #expect(try store.trim(now: 2_000 + MasterStore.keepMillis + 1) == 0)
        // Spread over agents, so that no agent has more than its own cap (keepPerAgent).
        for index in 0..<MasterStore.keepNewest {
            let agent = "bulk-\(index % 20)"
            try store.recordRequest(Self.apply("n-\(index)", agent: agent), appliedTopologyID: nil)
            try store.finish(agentID: agent, requestID: "n-\(index)", outcome: [], at: 10_000 + Int64(index))
        }
        #expect(try store.trim(now: 20_000 + MasterStore.keepMillis) == 1)
        #expect(try store.request(agentID: "host-1", requestID: "r-1") == nil)
    }

    /// An apply whose stored envelope carries a topology and a hash, as the master stores them.
    static func hydratedApply(_ id: String, agent: String = "host-1", topology: String, at: Int64) -> StoredRequest {
        var request = apply(id, agent: agent, at: at)
        request.request = Array(
            #"{"proto":1,"type":"apply","id":"\#(id)","hydrated":{"topology":{"id":"\#(topology)"}},"version_hash":"\#(hash)","supersede":false}"#
                .utf8
        )
        return request
    }

    @Test func requestsAreLookedUpAndListedNewestFirst() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try MasterStore(directory: directory.path, now: 1)
        #expect(
            try store.recordDesire(Self.hydratedApply("m-1", topology: "t-1", at: 1_000), desired: Self.desired("m-1"))
                == .recorded
        )
        var teardown = Self.apply("r-2", at: 2_000)
        teardown.type = "teardown"
        teardown.origin = .reconcile
        teardown.request = Array(#"{"proto":1,"type":"teardown","id":"r-2","topology_id":"t-0"}"#.utf8)
        try store.recordRequest(teardown, appliedTopologyID: nil)
        // An envelope that is not what the master writes (a damaged row) reads without topology, not as an error.
        var odd = Self.apply("s-3", at: 3_000)
        odd.origin = .submit
        odd.request = Array("not json".utf8)
        try store.recordRequest(odd, appliedTopologyID: nil)
        try store.recordRequest(Self.apply("x-1", agent: "host-2", at: 4_000), appliedTopologyID: nil)
        let outcome = Array(#"{"proto":1,"type":"answer"}"#.utf8)
        #expect(try store.finish(agentID: "host-1", requestID: "m-1", outcome: outcome, at: 1_500))

        let first = try #require(try store.summary(agentID: "host-1", requestID: "m-1"))
        #expect(
            first
                == RequestSummary(
                    agentID: "host-1",
                    requestID: "m-1",
                    type: "apply",
                    origin: .operator,
                    topologyID: "t-1",
                    versionHash: Self.hash,
                    createdAt: 1_000,
                    deadlineAt: 61_000,
                    finishedAt: 1_500,
                    outcome: outcome
                )
        )
        let second = try #require(try store.summary(agentID: "host-1", requestID: "r-2"))
        #expect(second.topologyID == "t-0" && second.versionHash == nil && second.origin == .reconcile)
        #expect(second.finishedAt == nil && second.outcome == nil)
        let third = try #require(try store.summary(agentID: "host-1", requestID: "s-3"))
        #expect(third.topologyID == nil && third.versionHash == nil)
        // The pair (agent, id) names a request: another agent's id is not this agent's.
        #expect(try store.summary(agentID: "host-1", requestID: "x-1") == nil)
        #expect(try store.summary(agentID: "host-9", requestID: "m-1") == nil)

        #expect(try store.summaries(agentID: "host-1", limit: 20).map(\.requestID) == ["s-3", "r-2", "m-1"])
        #expect(try store.summaries(agentID: "host-1", limit: 2).map(\.requestID) == ["s-3", "r-2"])
        // The limit is clamped into 1...1000, never refused.
        #expect(try store.summaries(agentID: "host-1", limit: 0).map(\.requestID) == ["s-3"])
        #expect(try store.summaries(agentID: "host-1", limit: -5).map(\.requestID) == ["s-3"])
        #expect(try store.summaries(agentID: "host-1", limit: .max).count == 3)
        #expect(try store.summaries(agentID: "host-9", limit: 20).isEmpty)
    }

    /// The trimming rule (docs/control-channel.md#master-store) at chosen times: each agent keeps its newest
    /// ``MasterStore/keepPerAgent`` finished requests whatever their age, the request that set its desired state
    /// stays, and nothing without an outcome goes.
    @Test func trimCapsEachAgentAndKeepsTheDesiredRequestAndOpenOnes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try MasterStore(directory: directory.path, now: 1)
        #expect(try store.recordDesire(Self.apply("m-0", at: 1), desired: Self.desired("m-0")) == .recorded)
        try store.finish(agentID: "host-1", requestID: "m-0", outcome: [], at: 2)
        let loop = MasterStore.keepPerAgent + 50
        for index in 0..<loop {
            var push = Self.apply("r-\(index)", at: 10 + Int64(index))
            push.origin = .reconcile
            try store.recordRequest(push, appliedTopologyID: nil)
            try store.finish(agentID: "host-1", requestID: "r-\(index)", outcome: [], at: 10 + Int64(index))
        }
        try store.recordRequest(Self.apply("r-open", at: 5), appliedTopologyID: nil)
        for index in 0..<5 {
            try store.recordRequest(Self.apply("q-\(index)", agent: "host-2", at: 3), appliedTopologyID: nil)
            try store.finish(agentID: "host-2", requestID: "q-\(index)", outcome: [], at: 3)
        }
        // All of it is recent: only the loop's oldest 50 go.
        #expect(try store.trim(now: 1_000) == 50)
        let kept = try store.summaries(agentID: "host-1", limit: 1_000).map(\.requestID)
        #expect(kept.count == MasterStore.keepPerAgent + 2)
        #expect(kept.contains("m-0") && kept.contains("r-open"))
        #expect(!kept.contains("r-49") && kept.contains("r-50") && kept.contains("r-\(loop - 1)"))
        #expect(try store.summaries(agentID: "host-2", limit: 1_000).count == 5)
        #expect(try store.trim(now: 1_000) == 0)

        // Much later, under the newest 1,000 of all agents: the age rule deletes nothing, the cap held already.
        #expect(try store.trim(now: 1_000 + MasterStore.keepMillis * 10) == 0)
        // Once the agent's desired state came from another request, its old one is an ordinary finished request.
        var teardown = Self.apply("m-1", at: 2_000)
        teardown.type = "teardown"
        #expect(try store.recordDesire(teardown, desired: Self.desired("m-1", topology: nil)) == .recorded)
        try store.finish(agentID: "host-1", requestID: "m-1", outcome: [], at: 2_000)
        // m-1 is the newest: the oldest of the loop's and the old desire fall past the cap.
        #expect(try store.trim(now: 3_000) == 2)
        #expect(try store.summary(agentID: "host-1", requestID: "m-0") == nil)
        #expect(try store.summary(agentID: "host-1", requestID: "r-50") == nil)
        #expect(try store.summary(agentID: "host-1", requestID: "m-1") != nil)
        #expect(try store.summary(agentID: "host-1", requestID: "r-open") != nil)
    }

    @Test func refusesFilesItMustNotTouch() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // The agent's store is another application.
        let agent = try TopologyStore(stateDirectory: directory.file("agent"))
        agent.close()
        try FileManager.default.moveItem(
            atPath: directory.file("agent/agent.db"),
            toPath: directory.file("agent/master.db")
        )
        #expect {
            _ = try MasterStore(directory: directory.file("agent"), now: 1)
        } throws: { ($0 as? StoreError)?.code == .unknownSchema }
        // A newer schema is never downgraded.
        let newer = directory.file("newer")
        try MasterStore(directory: newer, now: 1).close()
        let sqlite = try ProcessRunner.run(
            "/usr/bin/env",
            [
                "python3", "-c",
                "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version = 99'); c.commit()",
                newer + "/master.db",
            ]
        )
        #expect(sqlite.status == 0)
        #expect {
            _ = try MasterStore(directory: newer, now: 1)
        } throws: { ($0 as? StoreError)?.code == .schemaTooNew }
    }
}
