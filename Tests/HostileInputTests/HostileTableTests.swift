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
        let required: [ErrorCode] = [
            .badRequest, .unsupportedProto, .unknownType, .hashMismatch, .invalidTopology, .conflict, .tooLarge,
        ]
        for code in required {
            #expect(codes.contains(code), "no case for \(code)")
        }
    }

    @Test(arguments: HostileCases.all)
    func answeredWithItsCodeAndTheAgentIsUnchanged(_ c: HostileCase) async throws {
        try await HostileAgent.withBaseline { agent in
            let before = try agent.snapshot()
            let answer = try await agent.send(c.frame)
            try Self.expectAnswer(answer, c)
            Self.expectUnchanged(before, try agent.snapshot(), c)
            // Still serving, and still running the same topology.
            let state = try await agent.send(Frames.envelope([("proto", 1), ("type", "state"), ("id", "after")]))
            let body = try #require(try ResultMessage(answer: state).body)
            let agentState = try AgentState(body)
            #expect(agentState.appliedVersionHash == CanonicalHash.hash(Frames.topology))
            #expect(agentState.drift?.missingContainers == [])
        }
    }

    @Test func theWholeTableInARowAgainstOneAgentThenAValidApplyStillWorks() async throws {
        try await HostileAgent.withBaseline { agent in
            let first = try agent.snapshot()
            for c in HostileCases.all {
                let answer = try await agent.send(c.frame)
                try Self.expectAnswer(answer, c)
            }
            let after = try agent.snapshot()
            #expect(after.applied == first.applied)
            #expect(after.bridges == first.bridges)
            #expect(after.containers == first.containers)
            #expect(after.runtimeCalls == first.runtimeCalls)
            #expect(after.files == first.files)
            // A legitimate re-apply under a new id, then a teardown, work as usual.
            let changed = Topologies.withServices(Frames.topology, decky: 0, ["ssh", "http"])
            let reapplied = try await agent.send(Frames.apply(id: "after-all", changed))
            #expect(try ResultMessage(answer: reapplied).status == 200)
            let id = JSONValue.string(JSONString(Frames.topologyID))
            let teardown = try await agent.send(Frames.teardown(id: "teardown-after-all", id))
            #expect(try ResultMessage(answer: teardown).body?["status"] == "torn_down")
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
                let result = try ResultMessage(answer: answer)
                #expect(result.error?.code == .idReused)
                #expect(result.status == 409)
                #expect(result.id == HostileAgent.baselineID)
            }
            #expect(try agent.snapshot() == before)
            // The same content again is a retry, answered from the store, still without touching anything.
            let retry = try await agent.send(Frames.apply(id: HostileAgent.baselineID))
            #expect(try ResultMessage(answer: retry).status == 200)
            #expect(try agent.snapshot() == before)
        }
    }

    @Test func theSnapshotSeesEveryKindOfChange() async throws {
        try await HostileAgent.withBaseline { agent in
            let before = try agent.snapshot()
            let changed = Topologies.withServices(Frames.topology, decky: 0, ["ssh", "http"])
            let changedAnswer = try await agent.send(Frames.apply(id: "change", changed))
            #expect(try ResultMessage(answer: changedAnswer).status == 200)
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

    /// A teardown must name an id of 1 to 128 characters of `A-Z a-z 0-9 . _ -` not starting with `.`, and apply
    /// checks the whole `topology.id` with the same rule (not only the first 8 characters Docker names use), so every
    /// id a teardown refuses is refused by apply too and nothing runs: whatever is applied can be torn down by its id
    /// (docs/reliability.md#name-refusals).
    @Test(arguments: HostileCases.idsTeardownRefuses)
    func topologyIDsThatTeardownRefusesAreRefusedByApplyToo(_ id: JSONValue) async throws {
        try await HostileAgent.withAgent(baseline: false) { agent in
            let teardown = try await agent.send(Frames.teardown(id: "teardown-first", id))
            let refused = try #require(try ResultMessage(answer: teardown).error)
            #expect(refused.code == .badRequest)
            #expect(refused.details["path"] == "/topology_id")
            let answer = try await agent.send(Frames.apply(id: "apply-then", Frames.topology(id: id)))
            let applied = agent.runtime.update { !$0.containers.isEmpty }
            #expect(try ResultMessage(answer: answer).error?.code == .invalidTopology)
            #expect(!applied)
        }
    }

    /// Decky names are checked one by one, but a service container is named `<decky>-<service>` without the topology
    /// prefix, so a decky called `decnet_t_<id8>_b` with ssh and a decky called `b-ssh` both want the container
    /// `decnet_t_<id8>_b-ssh`: the second would silently replace the first (the in-memory runtime would keep one, and
    /// Docker's recreate would do the same). Apply refuses the collision (`NAME_COLLISION`) before any Docker call
    /// (docs/deviations.md#docker-name-safety).
    @Test func twoDeckiesWhoseContainersShareADockerNameAreRefused() async throws {
        try await HostileAgent.withAgent(baseline: false) { agent in
            var hostile = Frames.topology(decky: 0, name: "decnet_t_5d81934e_b")
            guard case .object(var root) = hostile, case .array(var deckies)? = root["deckies"],
                case .object(var second) = deckies[1], case .object(var config)? = second["decky_config"]
            else { throw FixtureError("unexpected base topology") }
            second["name"] = "b-ssh"
            config["name"] = "b-ssh"
            second["decky_config"] = .object(config)
            deckies[1] = .object(second)
            root["deckies"] = .array(deckies)
            hostile = .object(root)
            let plan = try agent.settings.composer.compose(hostile)
            let names = plan.containers.map(\.containerName)
            #expect(names.contains("decnet_t_5d81934e_b-ssh"))
            let answer = try await agent.send(Frames.apply(id: "collide", hostile))
            // The composer keeps DECNET's naming; the apply refuses the collision before Docker.
            #expect(Set(names).count < names.count, "\(names)")
            let refused = try #require(try ResultMessage(answer: answer).error)
            #expect(refused.code == .invalidTopology)
            #expect(refused.details["issues"]?.arrayValue?.first?["code"] == "NAME_COLLISION")
        }
    }

    // MARK: checks

    static func expectAnswer(
        _ answer: JSONValue,
        _ c: HostileCase,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let at = sourceLocation
        // The envelope members the typed result does not keep, read raw: `proto`, and an `id` that is null rather
        // than missing.
        #expect(answer["type"] == "result", "\(c.name)", sourceLocation: at)
        #expect(answer["proto"] == 1, "\(c.name)", sourceLocation: at)
        #expect(answer["id"] == (c.id.map { .string(JSONString($0)) } ?? .null), "\(c.name): id", sourceLocation: at)
        let result = try ResultMessage(answer: answer)
        #expect(result.id == c.id, "\(c.name): id", sourceLocation: at)
        let message = result.error?.message.prefix(300) ?? ""
        #expect(result.status == c.status, "\(c.name): \(message)", sourceLocation: at)
        guard let code = c.code else { return }
        #expect(result.error?.code == code, "\(c.name)", sourceLocation: at)
        if let path = c.path {
            #expect(result.error?.details["path"]?.stringValue == path, "\(c.name): path", sourceLocation: at)
        }
        if let issue = c.issue {
            let codes = result.error?.details["issues"]?.arrayValue?.compactMap { $0["code"]?.stringValue } ?? []
            #expect(codes.contains(issue), "\(c.name): issues \(codes)", sourceLocation: at)
        }
    }

    static func expectUnchanged(
        _ before: AgentSnapshot,
        _ after: AgentSnapshot,
        _ c: HostileCase,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let at = sourceLocation
        switch c.reach {
        case .nothing:
            #expect(after == before, "\(c.name) changed the agent", sourceLocation: at)
        case .requestAndAttempt:
            #expect(after.applied == before.applied, "\(c.name): applied row", sourceLocation: at)
            #expect(after.bridges == before.bridges, "\(c.name): bridges", sourceLocation: at)
            #expect(after.containers == before.containers, "\(c.name): containers", sourceLocation: at)
            #expect(after.runtimeCalls == before.runtimeCalls, "\(c.name): runtime calls", sourceLocation: at)
            #expect(after.files == before.files, "\(c.name): files", sourceLocation: at)
            #expect(after.tables["metadata"] == before.tables["metadata"], "\(c.name): metadata", sourceLocation: at)
            // Exactly one new request row, this case's, finished.
            #expect(Array(after.requests.prefix(before.requests.count)) == before.requests, sourceLocation: at)
            #expect(after.requests.count == before.requests.count + 1, "\(c.name): request rows", sourceLocation: at)
            if let row = after.requests.last, let id = c.id {
                #expect(row.contains("|'\(id)'|"), "\(c.name): \(row.prefix(200))", sourceLocation: at)
                #expect(!row.hasSuffix("|NULL"), "\(c.name): request left running", sourceLocation: at)
            }
        }
    }
}
