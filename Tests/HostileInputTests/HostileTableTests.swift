import AgentProtocol
import DecnetJSON
import Foundation
import TestSupport
import Testing
import Topology

/// Every frame of the hostile table through the real command dispatcher, each against a fresh agent that has a
/// topology applied: the answer carries the documented code, and the agent is unchanged afterwards.
@Suite("Hostile messages through the command dispatcher")
struct HostileTableTests {
    @Test func theTableHasOverFiftyDistinctCasesCoveringEveryInputErrorCode() {
        let cases = HostileCases.all
        #expect(cases.filter { $0.code != nil }.count >= 50)
        #expect(Set(cases.map(\.name)).count == cases.count)
        let codes = Set(cases.compactMap(\.code))
        for code: ErrorCode in [.badRequest, .unsupportedProto, .unknownType, .hashMismatch, .invalidTopology, .conflict, .tooLarge] {
            #expect(codes.contains(code), "no case for \(code)")
        }
    }

    @Test(arguments: HostileCases.all)
    func answeredWithItsCodeAndTheAgentIsUnchanged(_ c: HostileCase) async throws {
        try await HostileAgent.withBaseline { agent in
            let before = try agent.snapshot()
            let answer = try await agent.send(c.frame)
            Self.expectAnswer(answer, c)
            Self.expectUnchanged(before, try agent.snapshot(), c)
            // Still serving, and still running the same topology.
            let state = try await agent.send(Frames.envelope([("proto", 1), ("type", "state"), ("id", "after")]))
            #expect(state["body"]?["applied_version_hash"] == .string(JSONString(CanonicalHash.hash(Frames.topology))))
            #expect(state["body"]?["drift"]?["missing_containers"] == [])
        }
    }

    @Test func theWholeTableInARowAgainstOneAgentThenAValidApplyStillWorks() async throws {
        try await HostileAgent.withBaseline { agent in
            let first = try agent.snapshot()
            for c in HostileCases.all {
                let answer = try await agent.send(c.frame)
                Self.expectAnswer(answer, c)
            }
            let after = try agent.snapshot()
            #expect(after.applied == first.applied)
            #expect(after.bridges == first.bridges)
            #expect(after.containers == first.containers)
            #expect(after.runtimeCalls == first.runtimeCalls)
            #expect(after.files == first.files)
            // A legitimate re-apply under a new id, then a teardown, work as usual.
            let changed = Topologies.withServices(Frames.topology, decky: 0, ["ssh", "http"])
            #expect(try await agent.send(Frames.apply(id: "after-all", changed))["status"] == 200)
            let teardown = try await agent.send(Frames.teardown(id: "teardown-after-all", .string(JSONString(Frames.topologyID))))
            #expect(teardown["body"]?["status"] == "torn_down")
            #expect(agent.runtime.update { $0.containers.isEmpty && $0.bridges.isEmpty })
        }
    }

    @Test func aRetryWithTheSameIdButDifferentContentIsIdReusedAndChangesNothing() async throws {
        try await HostileAgent.withBaseline { agent in
            let before = try agent.snapshot()
            let variants: [[UInt8]] = [
                Frames.apply(id: HostileAgent.baselineID, extra: [("supersede", true)]),
                Frames.apply(id: HostileAgent.baselineID, Topologies.renamed(Frames.topology, id: "another-topology")),
                Frames.teardown(id: HostileAgent.baselineID, .string(JSONString(Frames.topologyID))),
            ]
            for frame in variants {
                let answer = try await agent.send(frame)
                #expect(answer["error"]?["code"] == "id_reused")
                #expect(answer["status"] == 409)
                #expect(answer["id"] == .string(JSONString(HostileAgent.baselineID)))
            }
            #expect(try agent.snapshot() == before)
            // The same content again is a retry, answered from the store, still without touching anything.
            let retry = try await agent.send(Frames.apply(id: HostileAgent.baselineID))
            #expect(retry["status"] == 200)
            #expect(try agent.snapshot() == before)
        }
    }

    @Test func theSnapshotSeesEveryKindOfChange() async throws {
        try await HostileAgent.withBaseline { agent in
            let before = try agent.snapshot()
            let changed = Topologies.withServices(Frames.topology, decky: 0, ["ssh", "http"])
            #expect(try await agent.send(Frames.apply(id: "change", changed))["status"] == 200)
            let after = try agent.snapshot()
            #expect(after.applied != before.applied)
            #expect(after.requests.count == before.requests.count + 1)
            #expect(after.containers != before.containers)
            #expect(after.runtimeCalls != before.runtimeCalls)
            #expect(after.files != before.files)  // the compose file was rewritten
            _ = try await agent.send(Frames.apply(id: "fail", hash: "00"))
            #expect(try agent.snapshot().attempt != after.attempt)
        }
    }

    /// Apply checks only the first 8 characters of `topology.id` (the part Docker names use), while a teardown must
    /// name an id of 1 to 128 characters of `A-Z a-z 0-9 . _ -` not starting with `.`: a topology applied under such
    /// an id (on an empty agent, or with `supersede`) can then never be torn down by its id. Reported; the known
    /// issue makes this test fail once apply refuses these ids, as it should.
    @Test(arguments: HostileCases.idsTeardownRefuses)
    func topologyIDsThatTeardownRefusesAreRefusedByApplyToo(_ id: JSONValue) async throws {
        try await HostileAgent.withAgent(baseline: false) { agent in
            let teardown = try await agent.send(Frames.teardown(id: "teardown-first", id))
            #expect(teardown["error"]?["code"] == "bad_request")
            #expect(teardown["error"]?["details"]?["path"] == "/topology_id")
            let answer = try await agent.send(Frames.apply(id: "apply-then", Frames.topology(id: id)))
            let applied = agent.runtime.update { !$0.containers.isEmpty }
            withKnownIssue("apply accepts topology ids that teardown refuses (MaterialisationCheck checks 8 characters)") {
                #expect(answer["error"]?["code"] == "invalid_topology")
                #expect(!applied)
            }
        }
    }

    // MARK: checks

    static func expectAnswer(_ answer: JSONValue, _ c: HostileCase, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(answer["type"] == "result", "\(c.name)", sourceLocation: sourceLocation)
        #expect(answer["proto"] == 1, "\(c.name)", sourceLocation: sourceLocation)
        #expect(answer["id"] == (c.id.map { .string(JSONString($0)) } ?? .null), "\(c.name): id", sourceLocation: sourceLocation)
        #expect(answer["status"]?.intValue == c.status, "\(c.name): \(answer["error"]?["message"]?.stringValue?.prefix(300) ?? "")", sourceLocation: sourceLocation)
        guard let code = c.code else { return }
        #expect(answer["error"]?["code"]?.stringValue == code.rawValue, "\(c.name)", sourceLocation: sourceLocation)
        if let path = c.path {
            #expect(answer["error"]?["details"]?["path"]?.stringValue == path, "\(c.name): path", sourceLocation: sourceLocation)
        }
        if let issue = c.issue {
            let codes = answer["error"]?["details"]?["issues"]?.arrayValue?.compactMap { $0["code"]?.stringValue } ?? []
            #expect(codes.contains(issue), "\(c.name): issues \(codes)", sourceLocation: sourceLocation)
        }
    }

    static func expectUnchanged(
        _ before: AgentSnapshot, _ after: AgentSnapshot, _ c: HostileCase, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        switch c.reach {
        case .nothing:
            #expect(after == before, "\(c.name) changed the agent", sourceLocation: sourceLocation)
        case .requestAndAttempt:
            #expect(after.applied == before.applied, "\(c.name): applied row", sourceLocation: sourceLocation)
            #expect(after.bridges == before.bridges, "\(c.name): bridges", sourceLocation: sourceLocation)
            #expect(after.containers == before.containers, "\(c.name): containers", sourceLocation: sourceLocation)
            #expect(after.runtimeCalls == before.runtimeCalls, "\(c.name): runtime calls", sourceLocation: sourceLocation)
            #expect(after.files == before.files, "\(c.name): files", sourceLocation: sourceLocation)
            #expect(after.tables["metadata"] == before.tables["metadata"], "\(c.name): metadata", sourceLocation: sourceLocation)
            // Exactly one new request row, this case's, finished.
            #expect(Array(after.requests.prefix(before.requests.count)) == before.requests, sourceLocation: sourceLocation)
            #expect(after.requests.count == before.requests.count + 1, "\(c.name): request rows", sourceLocation: sourceLocation)
            if let row = after.requests.last, let id = c.id {
                #expect(row.contains("|'\(id)'|"), "\(c.name): \(row.prefix(200))", sourceLocation: sourceLocation)
                #expect(!row.hasSuffix("|NULL"), "\(c.name): request left running", sourceLocation: sourceLocation)
            }
        }
    }
}
