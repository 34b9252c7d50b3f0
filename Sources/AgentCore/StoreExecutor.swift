import AgentStore
import Dispatch
import Synchronization

/// Runs the store's blocking SQLite calls on one serial dispatch queue, never on Swift's cooperative pool (a
/// synchronous-FULL commit waits for fsync).
public final class StoreExecutor: Sendable {
    public let store: TopologyStore
    private let queue = DispatchQueue(label: "decnet.agent.store")
    private let writes = Atomic<Int>(0)

    public init(store: TopologyStore) { self.store = store }

    /// Grows with every `write`: what was read at one generation is still current while it has not moved. This
    /// process is the only writer (the state directory lock keeps other agents out).
    public var generation: Int { writes.load(ordering: .acquiring) }

    /// `run` for a body that changes the store.
    public func write<T: Sendable>(_ body: @escaping @Sendable (TopologyStore) throws -> T) async throws -> T {
        defer { writes.add(1, ordering: .releasing) }
        return try await run(body)
    }

    /// Runs `body` on the store's queue. Errors are the store's `StoreError`s.
    public func run<T: Sendable>(_ body: @escaping @Sendable (TopologyStore) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [store] in
                continuation.resume(with: Result { try body(store) })
            }
        }
    }
}
