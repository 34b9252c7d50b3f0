import Synchronization
import ZeroMQ

/// Which trusted master key one agent socket pins next (docs/security.md#master-key-rollover).
///
/// A CURVE client names one server key per connection. A master whose key is not the one pinned cannot open the
/// client's HELLO and closes the connection: the client sees `handshakeFailedNoDetail` (measured with libzmq
/// 4.3), unlike a refusal of the agent's own key by ZAP, which is `handshakeFailedAuth` and says the master key was
/// right. So after a failure without detail (or a protocol failure) the next re-dial pins the next trusted key,
/// reading the list again first; a successful handshake keeps the key that worked.
///
/// ```
///   pinned(k) ──handshake failed, no detail──▶ suspect ──re-dial──▶ pinned(next of k)
///       ▲                                          │
///       └──────────── handshake succeeded ◀────────┘
/// ```
final class MasterKeyRing: Sendable {
    private struct State {
        var keys: [CurveKey]
        var index = 0
        var suspect = false
    }

    private let state: Mutex<State>
    private let reload: @Sendable () -> [CurveKey]?

    /// `keys` must not be empty; `reload` gives the list as it is now (`nil` keeps the last one).
    init(keys: [CurveKey], reload: @escaping @Sendable () -> [CurveKey]? = { nil }) {
        precondition(!keys.isEmpty, "an agent trusts at least one master key")
        self.state = Mutex(State(keys: keys))
        self.reload = reload
    }

    /// The key pinned now.
    var current: CurveKey { state.withLock { $0.keys[$0.index] } }

    /// Follows the socket's monitor events.
    func observe(_ kind: SocketEvent.Kind) {
        state.withLock { state in
            switch kind {
            case .handshakeFailedNoDetail, .handshakeFailedProtocol: state.suspect = true
            case .handshakeSucceeded, .handshakeFailedAuth: state.suspect = false
            default: break
            }
        }
    }

    /// When the pinned key looks wrong, moves on to the next trusted key (after reading the list again) and
    /// returns it; `nil` when the socket should keep its key.
    func advanceIfSuspect() -> CurveKey? {
        guard state.withLock({ $0.suspect }) else { return nil }
        let fresh = reload()
        return state.withLock { state -> CurveKey? in
            guard state.suspect else { return nil }
            state.suspect = false
            let pinned = state.keys[state.index]
            if let fresh, !fresh.isEmpty {
                state.keys = fresh
                state.index = fresh.firstIndex(of: pinned) ?? -1
            }
            guard state.keys.count > 1 || state.keys[0] != pinned else { return nil }
            state.index = (state.index + 1) % state.keys.count
            return state.keys[state.index]
        }
    }
}
