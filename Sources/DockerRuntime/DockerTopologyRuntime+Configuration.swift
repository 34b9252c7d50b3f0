extension DockerTopologyRuntime {
    /// Where the agent keeps its files, and how patient and how parallel the runtime is with Docker.
    public struct Configuration: Sendable {
        /// The agent's state directory: compose files live in `<stateDirectory>/topologies/`, and containers carry
        /// that path in `com.docker.compose.project.config_files`.
        public var stateDirectory: String
        /// Retries of transient failures, per Docker operation.
        public var retry: RetryPolicy
        /// Seconds a container gets between SIGTERM and SIGKILL when stopped (containers run with an init, so a
        /// stop normally takes well under a second).
        public var stopTimeout: Int
        /// Deckies worked on at once (base then its services), and service containers of one decky at once.
        /// Four concurrent clients was the measured sweet spot on 2 cores.
        public var containerConcurrency: Int
        /// Image builds and pulls at once.
        public var imageConcurrency: Int
        /// How often the observer re-lists everything even when events are flowing.
        public var refreshInterval: Duration
        /// How long the observer waits after an event that needs a re-list, so a burst costs one list.
        public var refreshDebounce: Duration
        /// How much later than `refreshInterval` a full list may come before the observation is reported stale
        /// ("Docker is not answering", drift unknown): a daemon that froze sends no event and answers no list.
        public var staleMargin: Duration
        /// How long `state` and heartbeats wait for a first list before they report Docker as not answering;
        /// once the observer is ready they never wait on Docker.
        public var answerWithin: Duration
        /// Pauses between attempts to re-subscribe to Docker's events; the last one repeats.
        public var reconnectBackoff: [Duration]
        /// Called before every retry of a transient failure (logging, tests).
        public var onRetry: (@Sendable (RetryPolicy.Retry) -> Void)?
        /// What the observer's refreshes, back-offs and staleness are measured on (tests inject a manual clock;
        /// the retry policy has its own).
        public var clock: any Clock<Duration>

        public init(
            stateDirectory: String,
            retry: RetryPolicy = .seed,
            stopTimeout: Int = 2,
            containerConcurrency: Int = 4,
            imageConcurrency: Int = 2,
            refreshInterval: Duration = .seconds(30),
            refreshDebounce: Duration = .milliseconds(100),
            staleMargin: Duration = .seconds(15),
            answerWithin: Duration = .seconds(2),
            reconnectBackoff: [Duration] = [
                .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
            ],
            onRetry: (@Sendable (RetryPolicy.Retry) -> Void)? = nil,
            clock: any Clock<Duration> = ContinuousClock()
        ) {
            self.stateDirectory = stateDirectory
            self.retry = retry
            self.stopTimeout = stopTimeout
            self.containerConcurrency = containerConcurrency
            self.imageConcurrency = imageConcurrency
            self.refreshInterval = refreshInterval
            self.refreshDebounce = refreshDebounce
            self.staleMargin = staleMargin
            self.answerWithin = answerWithin
            self.reconnectBackoff = reconnectBackoff
            self.onRetry = onRetry
            self.clock = clock
        }

        /// The folder the agent writes compose documents to.
        public var topologiesDirectory: String { stateDirectory + "/topologies" }

        /// The compose file the agent writes for `plan`.
        public func composeFilePath(_ composeFileName: String) -> String {
            topologiesDirectory + "/" + composeFileName
        }
    }
}
