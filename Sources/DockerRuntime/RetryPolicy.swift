import DockerEngine

/// How the runtime retries one Docker operation that failed transiently (docs/deviations.md#retries-per-operation):
/// the seed's policy of three attempts, 5 s then 10 s apart, applied per operation instead of per compose run.
///
/// Only ``DockerError/isTransient`` failures are retried (an unreachable daemon, a timeout, a 5xx that is not a missing
/// or refused image); everything else is reported at once. Tests inject a manual clock.
public struct RetryPolicy: Sendable {
    /// The pause before each retry; the number of attempts is one more than the number of delays.
    public var delays: [Duration]
    /// What the pauses are measured on.
    public var clock: any Clock<Duration>

    public init(delays: [Duration] = [.seconds(5), .seconds(10)], clock: any Clock<Duration> = ContinuousClock()) {
        self.delays = delays
        self.clock = clock
    }

    /// Three attempts, 5 s then 10 s apart.
    public static let seed = RetryPolicy()
    /// One attempt, no retry.
    public static let none = RetryPolicy(delays: [])

    public var attempts: Int { delays.count + 1 }

    /// A retry about to happen, for logs and tests.
    public struct Retry: Sendable {
        /// What is retried, e.g. `create container gw`.
        public var operation: String
        /// The attempt that failed, from 1.
        public var attempt: Int
        public var error: DockerError
        public var delay: Duration
    }

    /// Runs `body`, retrying transient failures after the policy's delays. The last error is rethrown; a cancelled
    /// sleep ends the retries with that error.
    func run<T>(
        _ operation: String,
        onRetry: (@Sendable (Retry) -> Void)?,
        _ body: () async throws(DockerError) -> T
    ) async throws(DockerError) -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await body()
            } catch {
                guard error.isTransient, attempt <= delays.count else { throw error }
                let delay = delays[attempt - 1]
                onRetry?(Retry(operation: operation, attempt: attempt, error: error, delay: delay))
                do {
                    try await clock.sleep(for: delay)
                } catch {
                    throw DockerError(.cancelled, operation: operation, message: "cancelled while waiting to retry")
                }
            }
        }
    }
}
