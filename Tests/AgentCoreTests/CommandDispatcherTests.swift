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
        Messages.frame([
            "proto": 1, "type": "apply", "id": .string(JSONString(id)), "hydrated": t,
            "version_hash": .string(JSONString(hash ?? CanonicalHash.hash(t))),
        ])
    }

    static func frame(_ v: JSONValue) -> [UInt8] { Messages.frame(v) }

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
        try await h.waitFor("result") { $0["type"] == "result" && $0["id"] == "a1" }
        feed.finish()
        await task.value
        let msgs = h.messages(id: "a1")
        #expect(msgs.first?["type"] == "accepted")
        #expect(msgs.last?["type"] == "result")
        #expect(msgs.last?["status"] == 200)
        #expect(msgs.filter { $0["type"] == "result" }.count == 1)
        #expect(msgs.contains { $0["type"] == "progress" && $0["phase"] == "record" })
    }

    @Test func stateIsAnsweredWhileAnApplyRunsAndASecondApplyIsBusy() async throws {
        let h = try Harness()
        h.runtime.gate.close()
        let (feed, task) = Self.start(h)
        feed.yield(Self.applyFrame(id: "a1"))
        try await h.waitFor("accepted") { $0["type"] == "accepted" && $0["id"] == "a1" }
        feed.yield(Self.frame(["proto": 1, "type": "state", "id": "s1"]))
        try await h.waitFor("state result") { $0["id"] == "s1" && $0["type"] == "result" }
        feed.yield(Self.applyFrame(id: "a2"))
        try await h.waitFor("busy") { $0["id"] == "a2" && $0["error"]?["code"] == "busy" }
        let busy = h.messages(id: "a2").last!
        #expect(busy["status"] == 409)
        #expect(busy["error"]?["details"]?["running"] == ["id": "a1", "type": "apply"])
        feed.yield(Self.frame(["proto": 1, "type": "ping", "id": "p1"]))
        try await h.waitFor("ping") { $0["id"] == "p1" && $0["body"]?["agent_id"] == "agent-1" }
        h.runtime.gate.open()
        try await h.waitFor("apply result") { $0["id"] == "a1" && $0["type"] == "result" }
        // busy was not recorded: the same id may run now
        feed.yield(Self.applyFrame(id: "a2"))
        try await h.waitFor("a2 result") { $0["id"] == "a2" && $0["type"] == "result" && $0["status"] == 200 }
        feed.finish()
        await task.value
    }

    @Test func retriedApplyIsAnsweredFromTheStoreAndRunsOnce() async throws {
        let h = try Harness()
        let (feed, task) = Self.start(h)
        feed.yield(Self.applyFrame(id: "r1"))
        try await h.waitFor("result") { $0["id"] == "r1" && $0["type"] == "result" }
        let first = h.messages(id: "r1").last!
        let materialisations = h.runtime.calls.filter { $0.hasPrefix("materialise") }.count
        feed.yield(Self.applyFrame(id: "r1"))
        try await h.waitFor("second result") { _ in h.messages(id: "r1").filter { $0["type"] == "result" }.count == 2 }
        #expect(h.messages(id: "r1").last == first)
        #expect(h.runtime.calls.filter { $0.hasPrefix("materialise") }.count == materialisations)
        // the same id for something else
        feed.yield(Self.frame(["proto": 1, "type": "teardown", "id": "r1", "topology_id": "x"]))
        try await h.waitFor("id_reused") { $0["id"] == "r1" && $0["error"]?["code"] == "id_reused" }
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
        try await h.waitFor("result") { $0["type"] == "result" && $0["id"] == "k1" }
        feed.finish()
        await task.value
        let expected =
            #"{"proto":1,"type":"result","id":"k1","status":500,"error":{"code":"internal","#
            + #""message":"agent restarted while the request was running","details":{}}}"#
        #expect(h.frames.withLock { $0 } == [Array(expected.utf8)])
        #expect(h.runtime.calls.isEmpty, "\(h.runtime.calls)")
    }

    @Test func retryWhileRunningGetsAcceptedNotASecondRun() async throws {
        let h = try Harness()
        h.runtime.gate.close()
        let (feed, task) = Self.start(h)
        feed.yield(Self.applyFrame(id: "r2"))
        try await h.waitFor("accepted") { $0["id"] == "r2" && $0["type"] == "accepted" }
        feed.yield(Self.applyFrame(id: "r2"))
        try await h.waitFor("second accepted") { _ in
            h.messages(id: "r2").filter { $0["type"] == "accepted" }.count == 2
        }
        h.runtime.gate.open()
        try await h.waitFor("result") { $0["id"] == "r2" && $0["type"] == "result" }
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
        feed.yield(Self.frame(["proto": 1, "type": "state", "id": "after"]))
        try await h.waitFor("state after junk") { $0["id"] == "after" && $0["status"] == 200 }
        let errors = h.messages.filter { $0["type"] == "result" && $0["status"] == 400 }
        #expect(errors.count == 5)
        #expect(errors.filter { $0["id"] == .null }.count == 4)
        #expect(errors.contains { $0["id"] == "g1" && $0["error"]?["code"] == "bad_request" })
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
        let first = await source.next()
        let second = await source.next()
        #expect(first["type"] == "heartbeat")
        #expect(first["seq"] == 1)
        #expect(second["seq"] == 2)
        #expect(first["boot_id"] == "boot-1")
        #expect(first["running"] == .null)
        #expect(first["state"]?["topology_id"] == .null)
        #expect(first["interval_ms"] == 10_000)
    }

    @Test func heartbeatLoopPublishesAtOnceAndAfterChanges() async throws {
        let h = try Harness()
        let source = HeartbeatSource(
            settings: h.settings,
            operations: h.operations,
            dispatcher: h.dispatcher(),
            clockMillis: { 0 }
        )
        let published = Locked<[JSONValue]>([])
        let loop = Task { await source.run { hb in published.withLock { $0.append(hb) } } }
        let deadline = ContinuousClock.now + .seconds(10)
        while published.value.isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        source.changed()
        while published.value.count < 2 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        loop.cancel()
        await loop.value
        #expect(published.value.count >= 2)
        #expect(published.value.map { $0["seq"]?.intValue ?? 0 }.prefix(2) == [1, 2])
    }
}
