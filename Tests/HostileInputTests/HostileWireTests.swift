import AgentProtocol
import DecnetJSON
import Foundation
import TestSupport
import Testing
import Topology
import ZeroMQ

/// A representative part of the hostile table over real CURVE sockets: a test master's ROUTER sends each frame to
/// the real agent (`buildAgent`), and the agent's store, runtime and files are unchanged afterwards.
@Suite("Hostile messages over CURVE", .serialized)
struct HostileWireTests {
    static let wireCaseNames: Set<String> = [
        "empty frame", "binary junk", "trailing garbage", "lone high surrogate escape in the id",
        "nesting 513 levels deep", "nesting 100k levels deep", "one byte over the 16 MiB limit",
        "id with a path traversal", "proto 2", "answer type result sent as a request",
        "answer type hello sent as a request", "apply with hydrated as JSON text", "supersede a string",
        "teardown topology_id a path traversal", "apply with a short version_hash",
        "topology id with a slash in its first 8 characters", "LAN name a path traversal", "decky name with a NUL",
        "another topology without supersede", "ping with nesting exactly 512 levels deep",
    ]

    static var wireCases: [HostileCase] { HostileCases.all.filter { wireCaseNames.contains($0.name) } }

    @Test func theWireSubsetIsComplete() {
        #expect(Self.wireCases.count == Self.wireCaseNames.count)
    }

    @Test func representativeCasesOverCURVELeaveTheAgentUnchanged() async throws {
        try await DaemonUnderTest.withMaster { master, agent in
            let baseline = try await master.exchange(agent.id, frames: [Frames.apply(id: HostileAgent.baselineID)])
            try #require(try ResultMessage(answer: baseline).status == 200)
            for c in Self.wireCases {
                let before = try agent.snapshot()
                let answer = try await master.exchange(agent.id, frames: [c.frame])
                try HostileTableTests.expectAnswer(answer, c)
                HostileTableTests.expectUnchanged(before, try agent.snapshot(), c)
            }
            // The same id for different content, over the wire.
            let before = try agent.snapshot()
            let reused = try await master.exchange(
                agent.id,
                frames: [Frames.teardown(id: HostileAgent.baselineID, "x")]
            )
            #expect(try ResultMessage(answer: reused).error?.code == .idReused)
            #expect(try agent.snapshot() == before)
            // All the answers came from the agent's own identity, and it still serves.
            #expect(master.commands.value.allSatisfy { $0.userId == agent.id })
            let stillHere = try await master.exchange(agent.id, frames: [Frames.ping("still-here")])
            #expect(try ResultMessage(answer: stillHere).status == 200)
        }
    }

    @Test func multiFrameMessagesAreAnsweredForTheirLastFrameOnly() async throws {
        try await DaemonUnderTest.withMaster { master, agent in
            let before = try agent.snapshot()
            // The envelope is the last frame (a REQ-style empty delimiter or junk before it is ignored).
            let junkThenPing = try await master.exchange(agent.id, frames: [[0xFF, 0x00], [], Frames.ping("mf1")])
            let junkThenPingResult = try ResultMessage(answer: junkThenPing)
            #expect(junkThenPingResult.id == "mf1")
            #expect(junkThenPingResult.status == 200)
            let pingThenJunk = try await master.exchange(agent.id, frames: [Frames.ping("mf2"), [0xFF, 0x00]])
            #expect(pingThenJunk["id"] == .null)  // null on the wire, not missing
            let pingThenJunkResult = try ResultMessage(answer: pingThenJunk)
            #expect(pingThenJunkResult.id == nil)
            #expect(pingThenJunkResult.error?.code == .badRequest)
            let applyThenEmpty = try await master.exchange(agent.id, frames: [Frames.apply(id: "mf3"), []])
            #expect(try ResultMessage(answer: applyThenEmpty).error?.code == .badRequest)
            #expect(try agent.snapshot() == before)
            #expect(master.results(from: agent.id).allSatisfy { $0["id"] != "mf3" })
        }
    }
}
