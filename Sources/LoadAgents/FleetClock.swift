/// Milliseconds since the fleet started, on the monotonic clock, shared by every part of one run.
struct FleetClock: Sendable {
    let origin = ContinuousClock.now

    func millis() -> Int64 {
        let (seconds, attoseconds) = (ContinuousClock.now - origin).components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
