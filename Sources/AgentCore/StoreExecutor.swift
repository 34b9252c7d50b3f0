import AgentStore
import Dispatch
import Synchronization

/// Runs the store's blocking SQLite calls on one serial dispatch queue, never on Swift's cooperative pool (a
/// synchronous-FULL commit waits for fsync).
public final class StoreExecutor: Sendable {
    private let current: Mutex<TopologyStore>
    private let queue = DispatchQueue(label: "decnet.agent.store")
    private let writes = Atomic<Int>(0)

    public init(store: TopologyStore) { current = Mutex(store) }

    /// The store in use (replaced by ``reopen(path:)`` after the state directory came back).
    public var store: TopologyStore { current.withLock { $0 } }

    /// Opens the database at `path` on the store's queue (with the old one's logger), then closes the old one and
    /// uses the new one from the next call on; what was cached from the old one is dropped (the generation moves).
    public func reopen(path: String) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            queue.async { [self] in
                do {
                    let fresh = try TopologyStore(path: path, logger: store.logger)
                    let old = current.withLock { store in
                        defer { store = fresh }
                        return store
                    }
                    old.close()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        writes.add(1, ordering: .releasing)
    }

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
            queue.async { [self] in
                let store = current.withLock { $0 }
                continuation.resume(with: Result { try body(store) })
            }
        }
    }
}
