import DecnetJSON
import DockerEngine
import Foundation
import LiveTestSupport
import TestSupport
import Testing
import Topology

@testable import DockerRuntime

/// The runtime's observation (what `state` and heartbeats carry) against a daemon that accepts connections but
/// never answers, and one that freezes after answering for a while (docs/reliability.md#docker-hung): observing
/// never waits on Docker, and a frozen daemon is reported, not taken for a quiet one.
@Suite struct HungDaemonObserverTests {
    /// A daemon that answers the version, the lists (empty) and an event subscription (a head, then silence) until
    /// `frozen` is set; from then on it reads requests and answers none.
    static func freezingDaemon(_ frozen: Locked<Bool>) throws -> FakeDaemon {
        try FakeDaemon { connection in
            while let request = connection.readRequest() {
                if frozen.value { continue }
                if connection.answerVersion(request) { continue }
                if request.contains("/events") {
                    _ = connection.write(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                    )
                    while connection.readRequest() != nil {}  // silent until the client closes
                    return
                }
                connection.respond("200 OK", "[]")
            }
        }
    }

    static func runtime(
        _ daemon: FakeDaemon,
        answerWithin: Duration = .seconds(1),
        reconnectBackoff: [Duration] = [.milliseconds(100)],
        clock: any Clock<Duration> = ContinuousClock()
    ) -> DockerTopologyRuntime {
        let client = DockerClient(
            configuration: .init(socketPath: daemon.path, requestTimeout: .seconds(1))
        )
        return DockerTopologyRuntime(
            client: client,
            configuration: .init(
                stateDirectory: "/nonexistent",
                refreshInterval: .milliseconds(300),
                refreshDebounce: .milliseconds(10),
                staleMargin: .milliseconds(700),
                answerWithin: answerWithin,
                reconnectBackoff: reconnectBackoff,
                clock: clock
            )
        )
    }

    /// How long one observation took, and what it said.
    static func timedObserve(_ runtime: DockerTopologyRuntime) async -> (Duration, Observation) {
        let started = ContinuousClock.now
        let observation = await runtime.observe(topologyID: nil)
        return (ContinuousClock.now - started, observation)
    }

    @Test func aDaemonThatNeverAnswersIsReportedWithinTheBoundAndThenAtOnce() async throws {
        let frozen = Locked(true)
        let daemon = try Self.freezingDaemon(frozen)
        defer { daemon.stop() }
        let runtime = Self.runtime(daemon, answerWithin: .milliseconds(500))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await runtime.run() }
            let (first, observation) = await Self.timedObserve(runtime)
            #expect(first < .seconds(1), "the first observation waited \(first)")
            #expect(observation.error?.hasPrefix("Docker is not answering") == true, "\(observation)")
            for _ in 0..<5 {
                let (took, again) = await Self.timedObserve(runtime)
                #expect(took < .milliseconds(100), "a later observation waited \(took)")
                #expect(again.error != nil)
            }
            print("HOSTILE-MEASURE hung daemon: first observation answered after \(first)")
            runtime.shutdown()
            await group.waitForAll()
        }
        try await runtime.client.shutdown()
    }

    /// On a manual clock (refresh 0.3 s, margin 0.7 s): a cache last listed at 0 answers without an error at exactly
    /// 1.0 s and "Docker is not answering" 1 ms later, without waiting on the frozen daemon; once it answers again,
    /// the next refresh clears the error.
    @Test func aDaemonThatFreezesLaterIsReportedStaleAndRecovers() async throws {
        let frozen = Locked(false)
        let daemon = try Self.freezingDaemon(frozen)
        defer { daemon.stop() }
        let clock = ManualClock()
        // No pause between attempts to subscribe: on a loaded machine a first attempt may miss its 1 s deadline, and
        // its retry must not wait for the manual clock, which stays at 0 until the cache is current.
        let runtime = Self.runtime(daemon, reconnectBackoff: [], clock: clock)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await runtime.run() }
            // The first list is real I/O against the fake daemon; it stamps the cache at 0 on the manual clock.
            #expect(await eventually(within: 20) { runtime.observer.isCurrent })
            #expect(runtime.observer.state.withLock { $0.refreshedAt } == .zero)
            #expect(await runtime.observe(topologyID: nil).error == nil)

            frozen.withLock { $0 = true }
            // The ticker's refresh asks the frozen daemon for a list, which hangs (and fails at its 1 s deadline).
            try? await clock.waitForSleepers(1)
            clock.advance(by: .milliseconds(300))
            try? await clock.waitForSleepers(2)  // the ticker again, and the refresh's debounce
            clock.advance(by: .milliseconds(10))
            try? await clock.waitForSleepers(1)
            clock.advance(by: .milliseconds(690))
            #expect(clock.elapsed == .seconds(1))
            let (onTime, fresh) = await Self.timedObserve(runtime)
            #expect(fresh.error == nil, "\(fresh)")
            clock.advance(by: .milliseconds(1))
            let (took, stale) = await Self.timedObserve(runtime)
            #expect(stale.error?.hasPrefix("Docker is not answering: nothing listed for 1 s") == true, "\(stale)")
            #expect(max(onTime, took) < .milliseconds(100), "an observation waited \(max(onTime, took))")
            #expect(!runtime.observer.isCurrent)

            // Drive the clock on until a refresh reaches the daemon that answers again (the hung list first has to
            // fail at its real 1 s deadline).
            frozen.withLock { $0 = false }
            let recovered = await eventually(within: 10) {
                clock.advanceToNextDeadline()
                return await runtime.observe(topologyID: nil).error == nil
            }
            #expect(recovered)
            runtime.shutdown()
            await group.waitForAll()
        }
        try await runtime.client.shutdown()
    }
}
