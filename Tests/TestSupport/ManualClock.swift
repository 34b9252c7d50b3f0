import Synchronization

/// A clock that moves only when a test says so, for loops that take an injected `any Clock<Duration>`.
///
/// `sleep(until:)` parks the caller until ``advance(by:)`` moves `now` to or past its deadline (or its task is
/// cancelled: it then throws `CancellationError`, like `Task.sleep`). ``sleepers(atLeast:)`` waits until that many
/// callers are parked, so a test advances only once the loop under test is really waiting: no test races the loop
/// (docs/reliability.md#time-in-tests). Pure Swift; safe from any thread.
public final class ManualClock: Clock, Sendable {
    /// A point on the manual clock: the time advanced since the clock was made.
    public struct Instant: InstantProtocol, CustomStringConvertible {
        public var offset: Duration

        public init(offset: Duration) { self.offset = offset }
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        public var description: String { "\(offset)" }
    }

    private struct Sleeper {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>?
        var cancelled = false
    }

    private struct State {
        var now = Instant(offset: .zero)
        var nextID = 0
        var sleepers: [Int: Sleeper] = [:]
        var sleepsStarted = 0
        var watchers: [Int: (count: Int, continuation: CheckedContinuation<Void, Never>?)] = [:]

        /// The watchers whose count is reached now, removed.
        mutating func satisfiedWatchers() -> [CheckedContinuation<Void, Never>] {
            let waiting = sleepers.values.filter { $0.continuation != nil }.count
            let ready = watchers.filter { $0.value.continuation != nil && $0.value.count <= waiting }
            for id in ready.keys { watchers[id] = nil }
            return ready.values.compactMap(\.continuation)
        }
    }

    private let state = Mutex(State())

    public init() {}

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .zero }

    /// How long the clock has been advanced in all.
    public var elapsed: Duration { now.offset }

    /// ``elapsed`` in whole milliseconds, for code that takes a `() -> Int64` clock.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = elapsed.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Callers parked in `sleep` now.
    public var sleeperCount: Int { state.withLock { s in s.sleepers.values.filter { $0.continuation != nil }.count } }

    /// Calls of `sleep` so far, including those that returned at once.
    public var sleepsStarted: Int { state.withLock { $0.sleepsStarted } }

    /// The deadlines of the parked callers, soonest first.
    public var deadlines: [Instant] {
        state.withLock { s in s.sleepers.values.filter { $0.continuation != nil }.map(\.deadline).sorted() }
    }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { s -> Int in
            s.sleepsStarted += 1
            s.nextID += 1
            return s.nextID
        }
        try Task.checkCancellation()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (resume, watchers) = state.withLock {
                    s -> (Result<Void, any Error>?, [CheckedContinuation<Void, Never>]) in
                    if s.sleepers[id]?.cancelled == true {
                        s.sleepers[id] = nil
                        return (.failure(CancellationError()), [])
                    }
                    if deadline <= s.now { return (.success(()), []) }
                    s.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return (nil, s.satisfiedWatchers())
                }
                for watcher in watchers { watcher.resume() }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            let continuation = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard let sleeper = s.sleepers[id] else {
                    // Cancelled before it parked: the park sees the mark and throws at once.
                    s.sleepers[id] = Sleeper(deadline: deadline, continuation: nil, cancelled: true)
                    return nil
                }
                s.sleepers[id] = nil
                return sleeper.continuation
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Moves `now` forward by `duration` and wakes every caller whose deadline is now reached, soonest first.
    public func advance(by duration: Duration) {
        precondition(duration >= .zero, "a clock does not go back")
        let due = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            s.now = s.now.advanced(by: duration)
            let now = s.now
            let ready = s.sleepers.filter { $0.value.continuation != nil && $0.value.deadline <= now }
                .sorted { $0.value.deadline < $1.value.deadline }
            for (id, _) in ready { s.sleepers[id] = nil }
            return ready.compactMap(\.value.continuation)
        }
        for continuation in due { continuation.resume() }
    }

    /// Advances to the soonest parked deadline (waking those callers); false when nobody sleeps.
    @discardableResult
    public func advanceToNextDeadline() -> Bool {
        guard let next = deadlines.first else { return false }
        advance(by: max(.zero, now.duration(to: next)))
        return true
    }

    /// Returns once at least `count` callers are parked in `sleep` (at once when they already are), or when the
    /// waiting task is cancelled (wrap it in `within` to bound it).
    public func sleepers(atLeast count: Int) async {
        let id = state.withLock { s -> Int in
            s.nextID += 1
            return s.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
                    if s.watchers[id] != nil {  // cancelled before it parked
                        s.watchers[id] = nil
                        return [continuation]
                    }
                    s.watchers[id] = (count, continuation)
                    return s.satisfiedWatchers()
                }
                for watcher in ready { watcher.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { s -> CheckedContinuation<Void, Never>? in
                guard let watcher = s.watchers[id] else {
                    s.watchers[id] = (count, nil)
                    return nil
                }
                s.watchers[id] = nil
                return watcher.continuation
            }
            continuation?.resume()
        }
    }

    /// Waits (at most `seconds` of real time) until at least `count` callers are parked in `sleep`.
    public func waitForSleepers(_ count: Int, within seconds: Double = 10) async throws {
        try await TestSupport.within(seconds, "\(count) sleepers on the manual clock") {
            await self.sleepers(atLeast: count)
        }
    }
}
