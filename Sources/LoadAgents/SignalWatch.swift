import Dispatch
import Foundation
import Synchronization

/// SIGTERM and SIGINT as a flag the run looks at, so that a stop request ends the current phase with a report
/// instead of killing the process.
final class SignalWatch: Sendable {
    private final class Flag: Sendable {
        let raised = Mutex(false)
    }

    private let flag: Flag
    /// Dispatch sources are not `Sendable`; they are created in `init`, only resumed there, and only released
    /// with this object, so no two threads ever touch them.
    private nonisolated(unsafe) let sources: [DispatchSourceSignal]

    init(_ signals: [Int32] = [SIGTERM, SIGINT]) {
        let flag = Flag()
        self.flag = flag
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { flag.raised.withLock { $0 = true } }
            source.resume()
            return source
        }
    }

    /// True once a signal arrived.
    var received: Bool { flag.raised.withLock { $0 } }

    /// Sleeps up to `seconds`, returning early (true) when a signal arrives.
    func sleep(seconds: Double) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if received { return true }
            try? await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
        }
        return received
    }
}
