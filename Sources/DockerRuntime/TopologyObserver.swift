import DecnetJSON
import DockerEngine
import Logging
import Synchronization
import Topology

/// Keeps the observation of labelled containers and bridges current without asking Docker on every call.
///
/// ```
///  run() ──► subscribe to /events ──► list everything ──► apply events as they come ──┐
///              ▲          │ failure: error set, backoff                              │ stream ends
///              └──────────┴───────────────────────────────────────────────────────────┘
///  beside it: a ticker asks for a full list every `refreshInterval`; events that need a list (a network
///  was created) ask for one too; requests within `refreshDebounce` share one list.
/// ```
/// ``observe(topologyID:)`` answers from the cache while ``run()`` is running and the cache is complete, and never
/// waits on Docker then: a cache not refreshed for `refreshInterval + staleMargin` answers "Docker is not
/// answering" (a daemon that froze sends no event and answers no list). Before the first list, and without
/// ``run()``, it lists directly but waits at most `answerWithin`. ``run()`` is meant for the daemon's task group: it returns when cancelled or after
/// ``shutdown()``, and it starts no unstructured task.
public final class TopologyObserver: Sendable {
    struct State {
        var cache = ObservationCache()
        var running = false
        /// The cache holds a complete list and the events since.
        var ready = false
        /// Why Docker could not be asked, while the stream is down.
        var error: String?
        /// When the last full list finished (``TopologyObserver/elapsed``): a cache not refreshed for
        /// `refreshInterval + staleMargin` is stale.
        var refreshedAt: Duration?
        var shutDown = false
        var stop: AsyncStream<Void>.Continuation?
    }

    let client: DockerClient
    let configuration: DockerTopologyRuntime.Configuration
    /// The event stream lost and re-established (notice), a re-list that failed (warning).
    let logger: Logger
    let state = Mutex(State())
    /// What every pause is slept on.
    let clock: any Clock<Duration>
    /// Time on `clock` since the observer was made: refresh times are kept as such.
    let elapsed: @Sendable () -> Duration

    init(client: DockerClient, configuration: DockerTopologyRuntime.Configuration, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        self.clock = configuration.clock
        self.elapsed = Self.stopwatch(configuration.clock)
    }

    /// Reads `clock` as the time since now, so the state needs no instant of a clock whose type is erased.
    static func stopwatch<C: Clock<Duration>>(_ clock: C) -> @Sendable () -> Duration {
        let origin = clock.now
        return { origin.duration(to: clock.now) }
    }

    /// Whether ``run()`` is running and the cache is complete (observations come from it).
    public var isCurrent: Bool {
        let now = elapsed()
        return state.withLock { $0.running && $0.ready && $0.error == nil && staleness($0, now: now) == nil }
    }

    /// Follows Docker's events until the task is cancelled or ``shutdown()`` is called. A second concurrent call
    /// returns at once.
    public func run() async {
        let (stopped, stop) = AsyncStream<Void>.makeStream()
        let started = state.withLock { s -> Bool in
            guard !s.running, !s.shutDown else { return false }
            s.running = true
            s.stop = stop
            return true
        }
        guard started else { return }
        let (refreshes, refresh) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.followEvents(refresh: refresh) }
            group.addTask { await self.tick(refresh) }
            group.addTask { await self.listOnRequest(refreshes) }
            group.addTask { for await _ in stopped {} }
            _ = await group.next()
            group.cancelAll()
        }
        refresh.finish()
        state.withLock { s in
            s.running = false
            s.ready = false
            s.error = nil
            s.refreshedAt = nil
            s.stop = nil
            s.cache = ObservationCache()
        }
    }

    /// Ends ``run()``; later calls of ``run()`` return at once.
    public func shutdown() {
        let stop = state.withLock { s -> AsyncStream<Void>.Continuation? in
            s.shutDown = true
            return s.stop
        }
        stop?.finish()
    }

    /// The labelled bridges and containers of `topologyID` (all topologies when nil); `error` set when Docker
    /// cannot be asked.
    public func observe(topologyID: String?) async -> Observation {
        let now = elapsed()
        let cached = state.withLock { s -> Observation? in
            guard s.running else { return nil }
            if let error = s.error { return Observation(error: error) }
            guard s.ready else { return nil }
            if let stale = staleness(s, now: now) { return Observation(error: stale) }
            return s.cache.cachedObservation(topologyID: topologyID)
        }
        if let cached { return cached }
        // Also when ``run()`` has not started yet: a daemon's first heartbeat may come before it.
        return await firstList(topologyID: topologyID)
    }

    /// Why the cache can no longer be trusted, or nil while it is refreshed on time.
    private func staleness(_ s: State, now: Duration) -> String? {
        guard let refreshed = s.refreshedAt else { return nil }
        let age = now - refreshed
        guard age > configuration.refreshInterval + configuration.staleMargin else { return nil }
        return "Docker is not answering: nothing listed for \(age.components.seconds) s (a list is due every"
            + " \(configuration.refreshInterval.components.seconds) s)"
    }

    /// A direct list raced against `answerWithin`, while the observer has no complete list yet. A list that does
    /// not come in time leaves the error in place, so later calls answer at once until a list succeeds.
    private func firstList(topologyID: String?) async -> Observation {
        let bound = configuration.answerWithin
        let clock = self.clock
        let answer = await withTaskGroup(of: Observation?.self) { group in
            group.addTask { await self.listDirectly(topologyID: topologyID) }
            group.addTask {
                try? await clock.sleep(for: bound)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let answer { return answer }
        let message = "Docker is not answering: no answer within \(bound) s"
        // Kept for ``run()`` too, when it starts later: a list that succeeds clears it.
        state.withLock { s in
            if !s.ready && s.error == nil && !s.shutDown { s.error = message }
        }
        return Observation(error: message)
    }

    /// One direct list, for when the cache is not running.
    func listDirectly(topologyID: String?) async -> Observation {
        let filter = DockerFilters.label(RuntimeLabels.topologyID, topologyID)
        do {
            let containers = try await client.listContainers(all: true, filters: filter)
            let networks = try await client.listNetworks(filters: filter)
            var cache = ObservationCache()
            cache.finishList(containers: containers, networks: networks)
            return cache.observation(topologyID: topologyID)
        } catch {
            return Observation(error: Self.describe(error))
        }
    }

    static func describe(_ error: DockerError) -> String {
        "\(error.operation): \(error.message)"
    }

    static func describe(_ error: any Error) -> String {
        (error as? DockerError).map { describe($0) } ?? "\(error)"
    }
}
