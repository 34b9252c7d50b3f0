import TestSupport
import Testing
import ZeroMQ

@testable import AgentTransport

/// When a socket dials its master again by itself (docs/wire-protocol.md#liveness-and-reconnects), on a manual clock:
/// every "not yet" is asked at a known instant, and every "now" right after the deadline.
@Suite struct RedialScheduleTests {
    static func schedule(_ clock: ManualClock) -> RedialSchedule {
        RedialSchedule(retryWindow: .seconds(3), firstDelay: .seconds(1), maxDelay: .seconds(8), clock: clock)
    }

    @Test func aDisconnectLibzmqDoesNotRetryIsDialledAfterTheWindow() {
        let clock = ManualClock()
        let schedule = Self.schedule(clock)
        #expect(!schedule.isDue())
        schedule.observe(.disconnected)
        clock.advance(by: .seconds(3))
        #expect(!schedule.isDue())
        clock.advance(by: .milliseconds(1))
        #expect(schedule.isDue())
        // Once: the socket dialled, the schedule is idle again.
        #expect(!schedule.isDue())
    }

    @Test func libzmqRetryingByItselfCancelsTheRedial() {
        let clock = ManualClock()
        let schedule = Self.schedule(clock)
        schedule.observe(.disconnected)
        clock.advance(by: .seconds(1))
        schedule.observe(.connectRetried)
        clock.advance(by: .seconds(10))
        #expect(!schedule.isDue())
        // A later disconnect starts a new window from its own instant.
        schedule.observe(.disconnected)
        clock.advance(by: .seconds(3))
        #expect(!schedule.isDue())
        clock.advance(by: .milliseconds(1))
        #expect(schedule.isDue())
    }

    /// A refusal waits the back-off, jittered by ±25 %: never due before 75 %, always due at 125 %; the delay doubles
    /// up to the maximum and a successful handshake resets it.
    @Test func refusalsBackOffDoublingUpToTheMaximumAndASuccessResets() {
        let clock = ManualClock()
        let schedule = Self.schedule(clock)
        for delay in [1, 2, 4, 8, 8].map({ Duration.seconds($0) }) {
            schedule.observe(.handshakeFailedAuth)
            clock.advance(by: delay * 0.75 - .milliseconds(1))
            #expect(!schedule.isDue(), "due before 75 % of \(delay)")
            clock.advance(by: delay * 0.5 + .milliseconds(1))
            #expect(schedule.isDue(), "not due at 125 % of \(delay)")
        }
        schedule.observe(.handshakeSucceeded)
        schedule.refused()
        clock.advance(by: .milliseconds(1_251))
        #expect(schedule.isDue())
    }

    @Test func aSecondRefusalWhileBackingOffDoesNotPushTheDeadline() {
        let clock = ManualClock()
        let schedule = Self.schedule(clock)
        schedule.refused()
        clock.advance(by: .milliseconds(700))
        schedule.observe(.handshakeFailedAuth)
        schedule.refused()
        clock.advance(by: .milliseconds(551))
        #expect(schedule.isDue())
    }
}
