import Synchronization
import ZeroMQ

/// Notices when libzmq will not reconnect by itself.
///
/// libzmq 4.3 ends a session for good when the peer commits a protocol error on an established connection (a frame
/// over `ZMQ_MAXMSGSIZE`, a malformed command): the socket then never dials again, and an agent behind NAT would be
/// lost to its master. After `disconnected`, libzmq normally reports a retry (`connectRetried`, `connectDelayed`,
/// `connected`) within the reconnect interval; when nothing comes within `retryWindow`, the link dials again.
///
/// ```
///   idle ──disconnected──▶ waiting ──retry/connected event──▶ idle
///                            │
///                            └── window elapsed ──▶ needsRedial() == true once ──▶ idle
/// ```
final class ReconnectGuard: Sendable {
    private let state = Mutex<ContinuousClock.Instant?>(nil)
    let retryWindow: Duration

    init(retryWindow: Duration) { self.retryWindow = retryWindow }

    func observe(_ kind: SocketEvent.Kind) {
        switch kind {
        case .disconnected:
            state.withLock { $0 = ContinuousClock.now }
        case .connectRetried, .connectDelayed, .connected, .handshakeSucceeded:
            state.withLock { $0 = nil }
        default:
            break
        }
    }

    /// True once when a disconnection has gone unanswered for longer than the window.
    func needsRedial(now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { since in
            guard let s = since, now - s > retryWindow else { return false }
            since = nil
            return true
        }
    }
}
