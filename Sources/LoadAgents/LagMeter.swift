import Synchronization

/// The worst lateness of the heartbeat schedule since the last ``reset()``, in milliseconds: how far behind its
/// due time a heartbeat was handed to its socket (a starved process shows here, not as lost heartbeats).
final class LagMeter: Sendable {
    private let state = Mutex<(max: Int64, total: Int64, count: Int64)>((0, 0, 0))

    func record(_ lag: Int64) {
        state.withLock { state in
            state.max = Swift.max(state.max, lag)
            state.total += lag
            state.count += 1
        }
    }

    func reset() { state.withLock { $0 = (0, 0, 0) } }

    /// `(max, mean)` in milliseconds.
    var reading: (max: Int64, mean: Double) {
        state.withLock { ($0.max, $0.count == 0 ? 0 : Double($0.total) / Double($0.count)) }
    }
}
