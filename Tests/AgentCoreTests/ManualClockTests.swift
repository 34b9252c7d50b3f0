import TestSupport
import Testing

/// The manual clock the loop tests rely on: sleepers wake exactly when their deadline is reached, in deadline order,
/// cancellation ends a sleep like `Task.sleep`, and a test can wait for sleepers without racing them.
@Suite struct ManualClockTests {
    @Test func sleepersWakeWhenTheirDeadlinePassesInOrder() async throws {
        let clock = ManualClock()
        let woke = Locked<[String]>([])
        await withThrowingTaskGroup(of: Void.self) { group in
            for (name, millis) in [("late", 300), ("early", 100), ("middle", 200)] {
                group.addTask {
                    try await clock.sleep(for: .milliseconds(millis))
                    woke.withLock { $0.append(name) }
                }
            }
            try? await clock.waitForSleepers(3)
            #expect(clock.deadlines.map(\.offset) == [.milliseconds(100), .milliseconds(200), .milliseconds(300)])
            clock.advance(by: .milliseconds(99))
            #expect(clock.sleeperCount == 3)
            clock.advance(by: .milliseconds(1))
            #expect(clock.sleeperCount == 2)
            #expect(clock.advanceToNextDeadline() && clock.elapsed == .milliseconds(200))
            clock.advance(by: .seconds(1))
            #expect(clock.sleeperCount == 0 && !clock.advanceToNextDeadline())
            try? await group.waitForAll()
        }
        #expect(Set(woke.withLock { $0 }) == ["early", "middle", "late"])
        #expect(clock.milliseconds == 1_200)
    }

    @Test func aDeadlineAlreadyReachedReturnsAtOnce() async throws {
        let clock = ManualClock()
        clock.advance(by: .seconds(5))
        try await clock.sleep(until: .init(offset: .seconds(5)))
        try await clock.sleep(for: .zero)
        #expect(clock.sleeperCount == 0 && clock.sleepsStarted == 2)
    }

    @Test func cancellationEndsASleepWithCancellationError() async throws {
        let clock = ManualClock()
        let sleeper = Task { () -> Bool in
            do {
                try await clock.sleep(for: .seconds(3600))
                return false
            } catch {
                return error is CancellationError
            }
        }
        try await clock.waitForSleepers(1)
        sleeper.cancel()
        #expect(await sleeper.value)
        #expect(clock.sleeperCount == 0 && clock.elapsed == .zero)

        // A task cancelled before it sleeps never parks.
        let early = Task { () -> Bool in
            withUnsafeCurrentTask { $0?.cancel() }
            return (try? await clock.sleep(for: .seconds(1))) == nil
        }
        #expect(await early.value && clock.sleeperCount == 0)
    }

    @Test func waitingForSleepersIsBoundedAndCancellable() async throws {
        let clock = ManualClock()
        await #expect(throws: TimedOut.self) { try await clock.waitForSleepers(1, within: 0.2) }
        let sleeper = Task { try await clock.sleep(for: .seconds(1)) }
        try await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        try await sleeper.value
    }
}
