import Synchronization

/// The API version negotiated with the daemon, worked out once: concurrent first callers wait for the one
/// negotiation in flight instead of each asking `/version`.
final class APIVersionCache: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `state` is read and written only while `lock` is held; continuations are
    // resumed after the lock is released.
    private let lock = Mutex(())
    private var state: State = .unknown
    private var nextFollower = 0

    private typealias Follower = (id: Int, continuation: CheckedContinuation<DockerAPIVersion, any Error>)

    private enum State {
        case unknown
        case negotiating([Follower])
        case known(DockerAPIVersion)
    }

    /// The cached version, or the result of `negotiate` run by the first caller. A failure is not cached, so the
    /// next call tries again (the daemon may have come up in the meantime).
    func get(
        negotiate: () async throws(DockerError) -> DockerAPIVersion
    ) async throws(DockerError) -> DockerAPIVersion {
        while true {
            enum Role {
                case done(DockerAPIVersion)
                case leader, follower
            }
            let role: Role = lock.withLock { _ in
                switch state {
                case .known(let version): return .done(version)
                case .negotiating: return .follower
                case .unknown:
                    state = .negotiating([])
                    return .leader
                }
            }
            switch role {
            case .done(let version):
                return version
            case .leader:
                let result: Result<DockerAPIVersion, DockerError>
                do throws(DockerError) {
                    result = .success(try await negotiate())
                } catch {
                    result = .failure(error)
                }
                let followers: [Follower] = lock.withLock { _ in
                    guard case .negotiating(let followers) = state else { return [] }
                    if case .success(let version) = result { state = .known(version) } else { state = .unknown }
                    return followers
                }
                for follower in followers { follower.continuation.resume(with: result.mapError { $0 as any Error }) }
                return try result.get()
            case .follower:
                let id = lock.withLock { _ in
                    nextFollower += 1
                    return nextFollower
                }
                do {
                    // A follower gives up when its task is cancelled (a state request that stopped waiting), even
                    // while the leader still waits on a daemon that does not answer.
                    return try await withTaskCancellationHandler {
                        try await withCheckedThrowingContinuation { continuation in
                            let ready: DockerAPIVersion?? = lock.withLock { _ in
                                if Task.isCancelled { return .some(nil) }
                                switch state {
                                case .negotiating(var followers):
                                    followers.append((id, continuation))
                                    state = .negotiating(followers)
                                    return .none
                                case .known(let version): return .some(version)
                                case .unknown: return .some(nil)
                                }
                            }
                            switch ready {
                            case .none: break
                            case .some(.some(let version)): continuation.resume(returning: version)
                            case .some(.none):
                                continuation.resume(
                                    throwing: DockerError(.cancelled, operation: "GET /version", message: "retry")
                                )
                            }
                        }
                    } onCancel: {
                        let cancelled: CheckedContinuation<DockerAPIVersion, any Error>? = lock.withLock { _ in
                            guard case .negotiating(var followers) = state,
                                let index = followers.firstIndex(where: { $0.id == id })
                            else { return nil }
                            let follower = followers.remove(at: index)
                            state = .negotiating(followers)
                            return follower.continuation
                        }
                        cancelled?.resume(
                            throwing: DockerError(.cancelled, operation: "GET /version", message: "cancelled")
                        )
                    }
                } catch let error as DockerError where error.code == .cancelled && !Task.isCancelled {
                    // The leader was cancelled or its negotiation raced with ours: negotiate again ourselves.
                    continue
                } catch let error as DockerError {
                    throw error
                } catch {
                    throw DockerError(.protocol, operation: "GET /version", message: "\(error)")
                }
            }
        }
    }
}
