import Synchronization

/// Counts the services that still send through the link (the dispatcher's results, the final heartbeat), so the
/// link closes its sockets only after the last of them finished: on graceful shutdown the group's order already
/// ensures it, on cancellation (every service at once) this does.
final class LinkUsers: Sendable {
    private struct State {
        var remaining: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(remaining: count))
    }

    /// One user is done with the link.
    func finished() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.remaining -= 1
            guard s.remaining <= 0 else { return [] }
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once every user finished. Not cancellable: the users end on cancellation themselves, and the group's
    /// cancellation limit bounds the wait.
    func allFinished() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if s.remaining <= 0 { return true }
                s.waiters.append(c)
                return false
            }
            if done { c.resume() }
        }
    }
}
