import DecnetJSON
import Synchronization

extension DockerClient {
    /// `GET /events`: live events matching `filters` (`type`, `label`, `event`, `container`, `network`, ...).
    ///
    /// Returns once Docker accepted the subscription (a bad filter throws here). The stream then yields events until
    /// the consumer stops iterating or cancels (the dedicated connection is closed), the daemon ends it (`until`
    /// reached: finishes normally), the connection drops (finishes with `unavailable`), or the client is shut down
    /// (finishes with `cancelled`). Its head must come within the request deadline; then it has no read timeout (a
    /// quiet host sends no events), and each line is capped at ``Configuration/maximumStreamLineBytes``.
    public func events(
        filters: DockerFilters = DockerFilters(),
        since: String? = nil,
        until: String? = nil
    )
        async throws(DockerError) -> AsyncThrowingStream<DockerEvent, any Error>
    {
        var query = filters.queryItems
        if let since { query.append(("since", since)) }
        if let until { query.append(("until", until)) }
        let request = DockerRequest(.get, "/events", query: query, readTimeout: .none)
        let operation = request.operation
        let (stream, continuation) = AsyncThrowingStream<DockerEvent, any Error>.makeStream()
        let holder = StreamLeaseHolder(client: self)
        continuation.onTermination = { _ in holder.terminate() }
        let (lease, _) = try await openStream(
            request,
            line: { bytes in
                do {
                    let value = try JSONParser.parse(bytes)
                    continuation.yield(try DockerEvent(json: value, operation: operation))
                } catch {
                    let text = String(decoding: bytes.prefix(200), as: UTF8.self)
                    let failure = DockerError(
                        .protocol,
                        operation: operation,
                        message: "unreadable event \(text): \(error)"
                    )
                    continuation.finish(throwing: failure)
                }
            },
            end: { [self] error in
                guard var error else { return continuation.finish() }
                if isShutDown {
                    error = DockerError(.cancelled, operation: operation, message: ConnectionPool.shutdownError.message)
                }
                continuation.finish(throwing: error)
            }
        )
        holder.hold(lease)
        return stream
    }
}

/// Releases a stream's dedicated connection exactly once, whether the consumer's termination comes before or after
/// the connection is established.
private final class StreamLeaseHolder: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `lease` and `terminated` are accessed only while `lock` is held.
    private let lock = Mutex(())
    private var lease: ConnectionPool.Lease?
    private var terminated = false
    private let client: DockerClient

    init(client: DockerClient) {
        self.client = client
    }

    func hold(_ lease: ConnectionPool.Lease) {
        let releaseNow: Bool = lock.withLock { _ in
            if terminated { return true }
            self.lease = lease
            return false
        }
        if releaseNow { client.release(lease) }
    }

    func terminate() {
        let lease: ConnectionPool.Lease? = lock.withLock { _ in
            terminated = true
            defer { self.lease = nil }
            return self.lease
        }
        if let lease { client.release(lease) }
    }
}
