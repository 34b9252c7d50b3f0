import DecnetJSON
import DockerEngine
import Logging
import Topology

extension TopologyObserver {
    /// Subscribes, lists, applies events until a stream ends or fails, and starts over after a pause; while Docker
    /// cannot be reached the observation carries the error.
    ///
    /// Two subscriptions, because network events carry no labels: containers filtered by our label (so other
    /// containers on the host cost nothing), networks unfiltered (a create only asks for a list).
    func followEvents(refresh: AsyncStream<Void>.Continuation) async {
        let containerFilters = DockerFilters([
            "type": ["container"], "event": ObservationCache.containerActions, "label": [RuntimeLabels.topologyID],
        ])
        let networkFilters = DockerFilters(["type": ["network"], "event": ObservationCache.networkActions])
        var failures = 0
        while !Task.isCancelled && !client.isShutDown {
            do {
                let networks = try await client.events(filters: networkFilters)
                let containers: AsyncThrowingStream<DockerEvent, any Error>
                do {
                    containers = try await client.events(filters: containerFilters)
                } catch {
                    await Self.close(networks)
                    throw error
                }
                try await list()
                if failures > 0 {
                    logger.notice("following Docker's events again", metadata: ["attempts": "\(failures + 1)"])
                }
                failures = 0
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for stream in [containers, networks] {
                        group.addTask {
                            for try await event in stream where self.state.withLock({ $0.cache.apply(event) }) {
                                refresh.yield()
                            }
                        }
                    }
                    // Whichever stream ends first (the daemon closed it, or the connection dropped) ends both.
                    try await group.next()
                    group.cancelAll()
                }
                if !Task.isCancelled && !client.isShutDown {
                    logger.notice("Docker closed its event stream; re-subscribing")
                }
            } catch {
                if Task.isCancelled || client.isShutDown { break }
                let message = Self.describe(error)
                state.withLock { s in
                    s.error = message
                    s.ready = false
                }
                // Once per outage at notice; each further attempt at debug (Docker may stay away for hours).
                logger.log(
                    level: failures == 0 ? .notice : .debug,
                    "cannot follow Docker's events; re-subscribing",
                    metadata: ["attempt": "\(failures + 1)", "error": "\(message.prefix(500))"]
                )
            }
            let backoff = configuration.reconnectBackoff
            guard !backoff.isEmpty else { continue }
            do {
                try await clock.sleep(for: backoff[min(failures, backoff.count - 1)])
            } catch {
                break
            }
            failures += 1
        }
    }

    /// Ends a subscription nobody will read: iterating it in a cancelled task terminates it, which releases its
    /// dedicated connection.
    static func close(_ stream: AsyncThrowingStream<DockerEvent, any Error>) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await _ in stream {}
                } catch {}
            }
            group.cancelAll()
        }
    }

    /// A full list of the labelled containers and networks, replacing the cache.
    func list() async throws(DockerError) {
        state.withLock { $0.cache.beginList() }
        do {
            let filter = DockerFilters.label(RuntimeLabels.topologyID)
            let containers = try await client.listContainers(all: true, filters: filter)
            let networks = try await client.listNetworks(filters: filter)
            let refreshed = elapsed()
            state.withLock { s in
                s.cache.finishList(containers: containers, networks: networks)
                s.ready = true
                s.error = nil
                s.refreshedAt = refreshed
            }
        } catch {
            state.withLock { $0.cache.endList() }
            throw error
        }
    }

    func tick(_ refresh: AsyncStream<Void>.Continuation) async {
        while !Task.isCancelled {
            do {
                try await clock.sleep(for: configuration.refreshInterval)
            } catch {
                return
            }
            refresh.yield()
        }
    }

    func listOnRequest(_ requests: AsyncStream<Void>) async {
        for await _ in requests {
            do {
                try await clock.sleep(for: configuration.refreshDebounce)
            } catch {
                return
            }
            // Only while the stream is up: after a failure the event loop re-lists when it reconnects.
            guard state.withLock({ $0.ready }) else { continue }
            do {
                try await list()
            } catch  where error.code == .cancelled {
                continue  // shutting down
            } catch {
                // The cache keeps its last list; it is reported stale if no list succeeds in time.
                logger.warning(
                    "cannot re-list the labelled containers and networks",
                    metadata: [
                        "error": "\(Self.describe(error).prefix(500))"
                    ]
                )
            }
        }
    }
}
