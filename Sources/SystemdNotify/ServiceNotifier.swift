import Synchronization

/// A daemon's side of `Type=notify`, over ``SystemdNotifier``: `READY=1` once, `STATUS=` only when the text
/// changed, `WATCHDOG=1` at most every half `WATCHDOG_USEC` (`kick()` may be called as often as the loop that
/// proves the process alive turns), and `STOPPING=1`. Every call does nothing when notifications are off.
/// Thread-safe.
public final class ServiceNotifier: Sendable {
    public let transport: SystemdNotifier
    private struct State {
        var status: String?
        var lastKick: ContinuousClock.Instant?
        var ready = false
        var stopping = false
    }
    private let state = Mutex(State())

    public init(_ transport: SystemdNotifier) {
        self.transport = transport
    }

    public var isEnabled: Bool { transport.isEnabled }

    /// Half the watchdog interval: how often ``kick(now:)`` sends. `nil` without a watchdog.
    public var kickInterval: Duration? { transport.watchdogInterval.map { $0 / 2 } }

    /// How often a loop calling ``kick(now:)`` should turn: half the watchdog interval, at most `ceiling`.
    public func loopInterval(ceiling: Duration = .seconds(1)) -> Duration {
        min(kickInterval ?? ceiling, ceiling)
    }

    /// `READY=1` with the first status. Sent once; later calls only update the status.
    public func ready(status: String) {
        let first = state.withLock { state -> Bool in
            guard !state.ready else { return false }
            state.ready = true
            state.status = status
            return true
        }
        if first { transport.ready(status: status) } else { self.status(status) }
    }

    /// `STATUS=text`, unless it is what was sent last.
    public func status(_ text: String) {
        let changed = state.withLock { state -> Bool in
            guard state.status != text, !state.stopping else { return false }
            state.status = text
            return true
        }
        if changed { transport.status(text) }
    }

    /// `WATCHDOG=1` when a watchdog is expected and half its interval passed since the last one.
    public func kick(now: ContinuousClock.Instant = .now) {
        guard let every = kickInterval else { return }
        let due = state.withLock { state -> Bool in
            if let last = state.lastKick, now - last < every { return false }
            state.lastKick = now
            return true
        }
        if due { transport.watchdog() }
    }

    /// `STOPPING=1` with a last status; later statuses are not sent.
    public func stopping(status: String) {
        let first = state.withLock { state -> Bool in
            guard !state.stopping else { return false }
            state.stopping = true
            state.status = status
            return true
        }
        if first { transport.stopping(status: status) }
    }
}
