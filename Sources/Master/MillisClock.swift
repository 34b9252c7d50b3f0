import AgentProtocol

/// A `Clock` over the master's monotonic milliseconds (``MasterConfiguration/clockMillis``), so the reconcile
/// decision runs on the same injected time as every other timer of the core.
public struct MillisClock: Clock, Sendable {
    public struct Instant: InstantProtocol, Sendable, Hashable {
        public var millis: Int64

        public init(millis: Int64) { self.millis = millis }

        public func advanced(by duration: Duration) -> Instant {
            Instant(millis: millis.addingSaturating(MasterCore.milliseconds(duration)))
        }

        public func duration(to other: Instant) -> Duration { .milliseconds(other.millis - millis) }

        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.millis < rhs.millis }
    }

    let read: @Sendable () -> Int64

    public init(_ read: @escaping @Sendable () -> Int64) { self.read = read }

    public var now: Instant { Instant(millis: read()) }
    public var minimumResolution: Duration { .milliseconds(1) }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let left = deadline.millis - read()
        if left > 0 { try await Task.sleep(for: .milliseconds(left)) }
    }
}
