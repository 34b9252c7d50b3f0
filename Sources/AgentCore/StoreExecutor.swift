import AgentStore
import Dispatch

/// Runs the store's blocking SQLite calls on one serial dispatch queue, never on Swift's cooperative pool (a
/// synchronous-FULL commit waits for fsync).
public final class StoreExecutor: Sendable {
    public let store: TopologyStore
    private let queue = DispatchQueue(label: "decnet.agent.store")

    public init(store: TopologyStore) { self.store = store }

    /// Runs `body` on the store's queue. Errors are the store's `StoreError`s.
    public func run<T: Sendable>(_ body: @escaping @Sendable (TopologyStore) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [store] in
                continuation.resume(with: Result { try body(store) })
            }
        }
    }
}
