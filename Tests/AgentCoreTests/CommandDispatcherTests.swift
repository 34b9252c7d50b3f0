import AgentCore
import AgentProtocol
import DecnetJSON
import Foundation
import TestSupport
import Testing
import Topology

@Suite("Command dispatcher")
struct CommandDispatcherTests {
    static func applyFrame(id: String, _ t: JSONValue = Topologies.two, hash: String? = nil) -> [UInt8] {
        frame(OutgoingRequest(id: id, .apply(ApplyRequest(hydrated: t, versionHash: hash ?? CanonicalHash.hash(t)))))
    }

    static func frame(_ request: OutgoingRequest) -> [UInt8] { Messages.frame(request.jsonValue) }

    /// Runs a dispatcher over a stream the test feeds; returns the feeder and the running task.
    static func start(_ h: Harness) -> (AsyncStream<[UInt8]>.Continuation, Task<Void, Never>) {
        let (stream, feed) = AsyncStream<[UInt8]>.makeStream()
        let dispatcher = h.dispatcher()
        let task = Task { await dispatcher.run(frames: stream) }
        return (feed, task)
    }

    @Test func applyGetsAcceptedProgressAndOneResult() async throws {
        let h = try Harness()
        let (feed, task) = Self.start(h)
        feed.yield(Self.applyFrame(id: "a1"))
        let result = try await h.result(of: "a1")
        feed.finish()
        await task.value
        let types = h.types(id: "a1")
        #expect(types.first == "accepted" && types.last == "result")
        #expect(result.status == 200)
        #expect(try h.results(id: "a1").count == 1)
        #expect(try h.progress(id: "a1").contains { $0.phase == .record })
    }

    @Test func stateIsAnsweredWhileAnApplyRunsAndASecondApplyIsBusy() async throws {
        let h = try Harness()
        h.runtime.gate.close()
        let (feed, task) = Self.start(h)
        feed.yield(Self.applyFrame(id: "a1"))
        try await h.wait(for: "accepted", of: "a1")
        // Held at the gate inside materialise: the attempt marker is written by then.
        try await h.waitUntil("materialise reached") { h.runtime.calls.contains { $0.hasPrefix("materialise") } }
        feed.yield(Self.frame(OutgoingRequest(id: "s1", .state)))
        let state = try await h.result(of: "s1")
        #expect(try AgentState(#require(state.body)).attempt?.error.hasPrefix("apply did not complete") == true)
        feed.yield(Self.applyFrame(id: "a2"))
        let busy = try await h.result(of: "a2")
        #expect(busy.status == 409)
        #expect(
            busy.error
                == AgentError(
                    .busy,
                    "apply a1 is running",
                    details: ["running": RunningRequest(id: "a1", type: .apply).jsonValue]
                )
        )
        feed.yield(Self.frame(OutgoingRequest(id: "p1", .ping)))
        #expect(try await h.result(of: "p1").body?["agent_id"] == "agent-1")
        h.runtime.gate.open()
        #expect(try await h.result(of: "a1").status == 200)
        // busy was not recorded: the same id may run now
        feed.yield(Self.applyFrame(id: "a2"))
        #expect(try await h.result(of: "a2", count: 2).status == 200)
        feed.finish()
        await task.value
    }

    @Test func retriedApplyIsAnsweredFromTheStoreAndRunsOnce() async throws {
        let h = try Harness()
        let (feed, task) = Self.start(h)
        feed.yield(Self.applyFrame(id: "r1"))
        #expect(try await h.result(of: "r1").status == 200)
        let first = try #require(h.frames(id: "r1").last)
        let materialisations = h.runtime.calls.filter { $0.hasPrefix("materialise") }.count
        feed.yield(Self.applyFrame(id: "r1"))
        _ = try await h.result(of: "r1", count: 2)
        #expect(h.frames(id: "r1").last == first, "the stored result, byte for byte")
        #expect(h.runtime.calls.filter { $0.hasPrefix("materialise") }.count == materialisations)
        // the same id for something else
        feed.yield(Self.frame(OutgoingRequest(id: "r1", .teardown(topologyID: "x"))))
        #expect(try await h.result(of: "r1", count: 3).error?.code == .idReused)
        feed.finish()
        await task.value
    }

    /// A request a previous agent process left running is answered, when the master re-sends it, with the
    /// documented `internal` result, byte for byte, and never runs (docs/wire-protocol.md#errors).
    @Test func aRequestInterruptedByARestartIsAnsweredAndNeverRuns() async throws {
        let h = try Harness()
        let frame = Self.applyFrame(id: "k1")
        let request = try RequestDecoder().decode(frame).get()
        #expect(try h.store.beginRequest(id: "k1", fingerprint: request.fingerprint, type: "apply", at: 1) == .new)
        try await h.executor.reopen(path: h.directory + "/agent.db")  // the next start after a kill -9
        let (feed, task) = Self.start(h)
        feed.yield(frame)
        _ = try await h.result(of: "k1")
        feed.finish()
        await task.value
        let expected =
            #"{"proto":1,"type":"result","id":"k1","status":500,"error":{"code":"internal","#
            + #""message":"agent restarted while the request was running","details":{}}}"#
        #expect(h.sent.withLock { $0.map(\.frame) } == [Array(expected.utf8)])
        #expect(h.runtime.calls.isEmpty, "\(h.runtime.calls)")
    }

    @Test func retryWhileRunningGetsAcceptedNotASecondRun() async throws {
        let h = try Harness()
        h.runtime.gate.close()
        let (feed, task) = Self.start(h)
        feed.yield(Self.applyFrame(id: "r2"))
        try await h.wait(for: "accepted", of: "r2")
        feed.yield(Self.applyFrame(id: "r2"))
        try await h.wait(for: "accepted", of: "r2", count: 2)
        h.runtime.gate.open()
        #expect(try await h.result(of: "r2").status == 200)
        feed.finish()
        await task.value
        #expect(h.runtime.calls.filter { $0.hasPrefix("materialise") }.count == 1)
    }

    @Test func garbageFramesAreAnsweredAndTheAgentKeepsServing() async throws {
        let h = try Harness()
        let (feed, task) = Self.start(h)
        for junk in [[UInt8](), [0xFF, 0xFE], Array("{".utf8), Array("[]".utf8), Array(#"{"id":"g1"}"#.utf8)] {
            feed.yield(junk)
        }
        feed.yield(Self.frame(OutgoingRequest(id: "after", .state)))
        #expect(try await h.result(of: "after").status == 200)
        let errors = try h.messages.map { try ResultMessage(Harness.object($0)) }.filter { $0.status == 400 }
        #expect(errors.count == 5)
        #expect(errors.filter { $0.id == nil }.count == 4)
        #expect(errors.contains { $0.id == "g1" && $0.error?.code == .badRequest })
        feed.finish()
        await task.value
    }

    @Test func heartbeatsCountUpAndCarryState() async throws {
        let h = try Harness()
        let dispatcher = h.dispatcher()
        let source = HeartbeatSource(
            settings: h.settings,
            operations: h.operations,
            dispatcher: dispatcher,
            clockMillis: { 1_776_749_115_000 }
        )
        let first = try Heartbeat(Harness.object(await source.next()))
        let second = try Heartbeat(Harness.object(await source.next()))
        #expect(first.seq == 1)
        #expect(second.seq == 2)
        #expect(first.bootID == "boot-1" && first.agentID == "agent-1")
        #expect(first.running == nil)
        #expect(try AgentState(first.state) == .idle)
        #expect(first.intervalMillis == 10_000 && first.sentAtMillis == 1_776_749_115_000)
    }

    /// The loop on a manual clock: one heartbeat at once, one after each change, one each full interval and not a
    /// millisecond before (docs/wire-protocol.md#heartbeat).
    @Test func heartbeatLoopPublishesAtOnceAfterChangesAndEveryInterval() async throws {
        let h = try Harness()
        let clock = ManualClock()
        let source = HeartbeatSource(
            settings: h.settings,
            operations: h.operations,
            dispatcher: h.dispatcher(),
            clockMillis: { 0 },
            clock: clock
        )
        let (published, sink) = AsyncStream<JSONValue>.makeStream()
        let loop = Task { await source.run { hb in sink.yield(hb) } }
        var heartbeats = published.makeAsyncIterator()
        let seq = { (hb: JSONValue?) -> Int? in try hb.map { try Heartbeat(Harness.object($0)).seq } }

        #expect(try seq(await heartbeats.next()) == 1)
        source.changed()
        #expect(try seq(await heartbeats.next()) == 2)
        // The ticker sleeps one interval from the start; just short of it nothing is due and it still sleeps.
        try await clock.waitForSleepers(1)
        #expect(clock.deadlines == [ManualClock.Instant(offset: .milliseconds(10_000))])
        clock.advance(by: .milliseconds(9_999))
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .milliseconds(1))
        #expect(try seq(await heartbeats.next()) == 3)
        try await clock.waitForSleepers(1)
        #expect(clock.deadlines == [ManualClock.Instant(offset: .milliseconds(20_000))])
        clock.advance(by: .milliseconds(10_000))
        #expect(try seq(await heartbeats.next()) == 4)

        loop.cancel()
        await loop.value
        sink.finish()
    }
}
