import Synchronization

/// A bounded set of keep-alive connections to the daemon, plus unpooled connections for long streams.
///
/// At most `maximum` pooled connections exist (idle, leased or being opened); further callers wait in FIFO order and
/// can be cancelled while they wait. Streams (events) get a dedicated connection that does not count against the
/// bound, so a watcher never starves requests; ``shutdown()`` closes everything.
final class ConnectionPool: @unchecked Sendable {
    // Invariant for @unchecked Sendable: every `var` below is read and written only while `lock` is held, and
    // continuations are resumed and channels closed only after the lock is released.
    private let lock = Mutex(())
    private var idle: [DockerConnection] = []
    private var leased: [ObjectIdentifier: DockerConnection] = [:]
    private var dedicated: [ObjectIdentifier: DockerConnection] = [:]
    /// Pooled connections that exist or are being opened; never above `maximum`.
    private var open = 0
    private var waiters: [(id: Int, continuation: CheckedContinuation<Grant, any Error>)] = []
    /// Waiter ids handed out but not yet queued, and those of them cancelled before they could queue.
    private var unregisteredWaiters: Set<Int> = []
    private var cancelledWaiters: Set<Int> = []
    private var nextWaiterID = 0
    private var isShutdown = false
    private var peakOpen = 0

    let maximum: Int
    private let connector: @Sendable () async throws(DockerError) -> DockerConnection

    /// A connection on loan; give it back with ``release(_:reusable:)``.
    struct Lease: Sendable {
        let connection: DockerConnection
        /// True when the connection had already carried a request (a stale keep-alive may fail at once).
        let reused: Bool
        let pooled: Bool
    }

    private enum Grant: Sendable {
        case connection(DockerConnection)
        /// A slot freed up: the waiter opens a connection itself.
        case slot
    }

    init(maximum: Int, connector: @escaping @Sendable () async throws(DockerError) -> DockerConnection) {
        precondition(maximum >= 1, "a connection pool needs at least one connection")
        self.maximum = maximum
        self.connector = connector
    }

    var shutDown: Bool { lock.withLock { _ in isShutdown } }

    /// Counts for tests and diagnostics: pooled connections now, idle ones, streams, and the most ever open at once.
    var statistics: (open: Int, idle: Int, dedicated: Int, peakOpen: Int) {
        lock.withLock { _ in (open, idle.count, dedicated.count, peakOpen) }
    }

    static let shutdownError = DockerError(.cancelled, operation: "", message: "the Docker client was shut down")
    static let cancelledWaiting = DockerError(
        .cancelled,
        operation: "",
        message: "cancelled while waiting for a connection"
    )

    /// Lends an idle connection, opens a new one while under the bound, or waits for one to come back.
    func lease() async throws -> Lease {
        enum Decision {
            case reuse(DockerConnection)
            case connect, wait, shutdown
        }
        var stale: [DockerConnection] = []
        let decision: Decision = lock.withLock { _ in
            if isShutdown { return .shutdown }
            while let connection = idle.popLast() {
                if connection.isActive {
                    leased[ObjectIdentifier(connection)] = connection
                    return .reuse(connection)
                }
                open -= 1
                stale.append(connection)
            }
            if open < maximum {
                open += 1
                peakOpen = max(peakOpen, open)
                return .connect
            }
            return .wait
        }
        for connection in stale { connection.close() }
        switch decision {
        case .shutdown: throw Self.shutdownError
        case .reuse(let connection): return Lease(connection: connection, reused: true, pooled: true)
        case .connect: return try await openPooled()
        case .wait:
            switch try await waitForGrant() {
            case .connection(let connection): return Lease(connection: connection, reused: true, pooled: true)
            case .slot: return try await openPooled()
            }
        }
    }

    /// Opens a connection outside the bound, for a stream that may stay open for hours.
    func leaseDedicated() async throws -> Lease {
        if shutDown { throw Self.shutdownError }
        let connection = try await connector()
        let accepted = lock.withLock { _ in
            if isShutdown { return false }
            dedicated[ObjectIdentifier(connection)] = connection
            return true
        }
        guard accepted else {
            connection.close()
            throw Self.shutdownError
        }
        return Lease(connection: connection, reused: false, pooled: false)
    }

    /// Takes a connection back: kept for the next caller when `reusable` and still open, closed otherwise.
    func release(_ lease: Lease, reusable: Bool) {
        let connection = lease.connection
        let id = ObjectIdentifier(connection)
        var close = false
        var handOff: (() -> Void)?
        lock.withLock { _ in
            guard lease.pooled else {
                dedicated[id] = nil
                close = true
                return
            }
            leased[id] = nil
            if !isShutdown && reusable && connection.isActive {
                if !waiters.isEmpty {
                    let waiter = waiters.removeFirst()
                    leased[id] = connection
                    handOff = { waiter.continuation.resume(returning: .connection(connection)) }
                } else {
                    idle.append(connection)
                }
            } else {
                open -= 1
                close = true
                handOff = grantSlotLocked()
            }
        }
        if close { connection.close() }
        handOff?()
    }

    /// Refuses new leases, fails waiters with `cancelled`, and closes every connection, leased or not.
    func shutdown() {
        let (connections, pending): ([DockerConnection], [CheckedContinuation<Grant, any Error>]) = lock.withLock { _ in
            isShutdown = true
            let all = idle + Array(leased.values) + Array(dedicated.values)
            open -= idle.count
            idle.removeAll()
            dedicated.removeAll()
            let pending = waiters.map(\.continuation)
            waiters.removeAll()
            return (all, pending)
        }
        for connection in connections { connection.close() }
        for waiter in pending { waiter.resume(throwing: Self.shutdownError) }
    }

    private func openPooled() async throws -> Lease {
        let connection: DockerConnection
        do {
            connection = try await connector()
        } catch {
            let handOff = lock.withLock { _ in
                open -= 1
                return grantSlotLocked()
            }
            handOff?()
            throw error
        }
        let accepted = lock.withLock { _ in
            if isShutdown {
                open -= 1
                return false
            }
            leased[ObjectIdentifier(connection)] = connection
            return true
        }
        guard accepted else {
            connection.close()
            throw Self.shutdownError
        }
        return Lease(connection: connection, reused: false, pooled: true)
    }

    /// With the lock held: if a slot is free and someone waits, reserve the slot for them; resume after unlocking.
    private func grantSlotLocked() -> (() -> Void)? {
        guard !isShutdown, open < maximum, !waiters.isEmpty else { return nil }
        let waiter = waiters.removeFirst()
        open += 1
        peakOpen = max(peakOpen, open)
        return { waiter.continuation.resume(returning: .slot) }
    }

    private func waitForGrant() async throws -> Grant {
        let id = lock.withLock { _ in
            nextWaiterID += 1
            unregisteredWaiters.insert(nextWaiterID)
            return nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Grant, any Error>) in
                let refusal: DockerError? = lock.withLock { _ in
                    unregisteredWaiters.remove(id)
                    if cancelledWaiters.remove(id) != nil {
                        return Self.cancelledWaiting
                    }
                    if isShutdown { return Self.shutdownError }
                    waiters.append((id, continuation))
                    return nil
                }
                if let refusal { continuation.resume(throwing: refusal) }
            }
        } onCancel: {
            let continuation: CheckedContinuation<Grant, any Error>? = lock.withLock { _ in
                if let index = waiters.firstIndex(where: { $0.id == id }) {
                    return waiters.remove(at: index).continuation
                }
                if unregisteredWaiters.contains(id) { cancelledWaiters.insert(id) }
                return nil
            }
            continuation?.resume(throwing: Self.cancelledWaiting)
        }
    }
}
