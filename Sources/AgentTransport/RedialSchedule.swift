import Synchronization
import ZeroMQ

/// When one of the agent's sockets must dial its master again by itself, because libzmq will not.
///
/// libzmq 4.3 ends a session for good after a refused handshake (the master's allow-list did not list the key yet,
/// or a key was missing across a master restart) and after a protocol error on an established connection (a frame
/// over `ZMQ_MAXMSGSIZE`): the socket then never dials that endpoint again, and an agent behind NAT would be lost.
/// Both the command DEALER and the heartbeat PUB keep one schedule each:
///
/// ```
///   idle ──disconnected──▶ waiting ──retry/connected event──▶ idle
///    ▲ ▲                     │
///    │ └─ handshake ok ──┐   └── window elapsed ──▶ due: dial now ──▶ idle
///    │                   │
///    └──── dialled ◀── backing off ◀── handshake refused / revoked (delay doubles, jittered, up to the max)
/// ```
/// A refusal waits the current back-off (the first delay, then doubling up to the maximum, each jittered by ±25 %),
/// so a key enrolled late is picked up within one back-off, and a refused agent never hammers its master. A
/// successful handshake resets the back-off. Thread-safe; time is read from the injected clock (tests drive a manual
/// one), kept as the time since the schedule was made.
final class RedialSchedule: Sendable {
    private enum Phase {
        case idle
        case waiting(since: Duration)
        case backingOff(until: Duration)
    }

    private struct State {
        var phase = Phase.idle
        var delay: Duration
    }

    private let state: Mutex<State>
    let retryWindow: Duration
    let firstDelay: Duration
    let maxDelay: Duration
    /// Time on the injected clock since the schedule was made.
    private let elapsed: @Sendable () -> Duration

    init(
        retryWindow: Duration,
        firstDelay: Duration,
        maxDelay: Duration,
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.retryWindow = retryWindow
        self.firstDelay = firstDelay
        self.maxDelay = max(firstDelay, maxDelay)
        self.state = Mutex(State(delay: firstDelay))
        self.elapsed = Self.stopwatch(clock)
    }

    private static func stopwatch<C: Clock<Duration>>(_ clock: C) -> @Sendable () -> Duration {
        let origin = clock.now
        return { origin.duration(to: clock.now) }
    }

    /// Follows the socket's monitor events.
    func observe(_ kind: SocketEvent.Kind) {
        let now = elapsed()
        state.withLock { state in
            switch kind {
            case .disconnected:
                if case .idle = state.phase { state.phase = .waiting(since: now) }
            case .connectRetried, .connectDelayed, .connected:
                if case .waiting = state.phase { state.phase = .idle }
            case .handshakeSucceeded:
                state.phase = .idle
                state.delay = firstDelay
            case .handshakeFailedAuth, .handshakeFailedProtocol, .handshakeFailedNoDetail:
                backOff(&state, now: now)
            default:
                break
            }
        }
    }

    /// The master said this agent's key is revoked: back off before dialling again.
    func refused() {
        let now = elapsed()
        state.withLock { backOff(&$0, now: now) }
    }

    /// True once when the socket should dial again now.
    func isDue() -> Bool {
        let now = elapsed()
        return state.withLock { state in
            switch state.phase {
            case .idle:
                return false
            case .waiting(let since):
                guard now - since > retryWindow else { return false }
            case .backingOff(let until):
                guard now >= until else { return false }
            }
            state.phase = .idle
            return true
        }
    }

    private func backOff(_ state: inout State, now: Duration) {
        if case .backingOff = state.phase { return }
        let jitter = Double.random(in: 0.75...1.25)
        state.phase = .backingOff(until: now + state.delay * jitter)
        state.delay = min(state.delay * 2, maxDelay)
    }
}
