import AgentProtocol
import Master
import Testing

/// The retry state machine, driven with explicit times.
@Suite("Request tracker")
struct RequestTrackerTests {
    let key = RequestKey(agentID: "a", requestID: "r1")
    let frame: [UInt8] = Array("{}".utf8)

    func submit(
        _ tracker: inout RequestTracker,
        connected: Bool,
        deadline: Int64 = 10_000
    )
        -> RequestTracker.SubmitOutcome
    {
        tracker.submit(
            key: key,
            type: .apply,
            frame: frame,
            fingerprint: "f",
            deadline: deadline,
            now: 0,
            connected: connected
        )
    }

    @Test func sendsAtOnceToAConnectedAgentAndFinishesOnTheResult() {
        var tracker = RequestTracker(retryInterval: 1000)
        #expect(submit(&tracker, connected: true) == .new([.send(key, frame: frame, resend: false)]))
        tracker.sendSucceeded(key, now: 10)
        #expect(tracker.answer(key, type: "accepted", now: 20) == .alive)
        #expect(tracker.entries[key]?.phase == .accepted)
        #expect(tracker.answer(key, type: "progress", now: 30) == .alive)
        #expect(tracker.answer(key, type: "result", now: 40) == .finished)
        #expect(tracker.entries.isEmpty)
        #expect(tracker.answer(key, type: "result", now: 50) == .unknown)
    }

    @Test func waitsForTheAgentThenSendsOnTick() {
        var tracker = RequestTracker(retryInterval: 1000)
        #expect(submit(&tracker, connected: false) == .new([]))
        #expect(tracker.tick(now: 100) { _ in false }.isEmpty)
        #expect(tracker.tick(now: 200) { _ in true } == [.send(key, frame: frame, resend: false)])
        // In flight: not handed out twice.
        #expect(tracker.tick(now: 300) { _ in true }.isEmpty)
    }

    @Test func resendsTheSameIdOnHelloAndWhenQuiet() {
        var tracker = RequestTracker(retryInterval: 1000)
        _ = submit(&tracker, connected: true)
        tracker.sendSucceeded(key, now: 0)
        #expect(tracker.hello(agentID: "a", now: 100) == [.send(key, frame: frame, resend: true)])
        tracker.sendSucceeded(key, now: 100)
        #expect(tracker.hello(agentID: "other", now: 100).isEmpty)
        #expect(tracker.tick(now: 1099) { _ in true }.isEmpty)
        #expect(tracker.tick(now: 1100) { _ in true } == [.send(key, frame: frame, resend: true)])
        tracker.sendSucceeded(key, now: 1100)
        // News about the request pushes the next re-send back.
        _ = tracker.answer(key, type: "accepted", now: 1500)
        #expect(tracker.tick(now: 2400) { _ in true }.isEmpty)
        #expect(tracker.entries[key]?.attempts == 3)
    }

    @Test func aFailedSendWaitsAndTheDeadlineExpires() {
        var tracker = RequestTracker(retryInterval: 1000)
        _ = submit(&tracker, connected: true, deadline: 5000)
        tracker.sendFailed(key, now: 0)
        #expect(tracker.entries[key]?.phase == .waiting)
        #expect(tracker.tick(now: 4999) { _ in false }.isEmpty)
        #expect(tracker.tick(now: 5000) { _ in true } == [.expire(key, sent: false)])
        #expect(tracker.entries.isEmpty)
    }

    @Test func aRepeatedSubmitAttachesAndOtherContentIsRefused() {
        var tracker = RequestTracker(retryInterval: 1000)
        _ = submit(&tracker, connected: false)
        #expect(submit(&tracker, connected: true) == .attached)
        let other = tracker.submit(
            key: key,
            type: .apply,
            frame: frame,
            fingerprint: "different",
            deadline: 1,
            now: 0,
            connected: true
        )
        #expect(other == .idReused)
    }
}
