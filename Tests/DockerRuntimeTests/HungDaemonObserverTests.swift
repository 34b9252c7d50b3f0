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

    static func runtime(_ daemon: FakeDaemon, answerWithin: Duration = .seconds(1)) -> DockerTopologyRuntime {
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
                reconnectBackoff: [.milliseconds(100)]
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

    @Test func aDaemonThatFreezesLaterIsReportedStaleAndRecovers() async throws {
        let frozen = Locked(false)
        let daemon = try Self.freezingDaemon(frozen)
        defer { daemon.stop() }
        let runtime = Self.runtime(daemon)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await runtime.run() }
            #expect(await eventually(within: 5) { runtime.observer.isCurrent })
            #expect(await runtime.observe(topologyID: nil).error == nil)

            frozen.withLock { $0 = true }
            let froze = ContinuousClock.now
            var reportedAfter: Duration?
            var slowest = Duration.zero
            while ContinuousClock.now - froze < .seconds(5) {
                let (took, observation) = await Self.timedObserve(runtime)
                slowest = max(slowest, took)
                if let error = observation.error {
                    #expect(error.hasPrefix("Docker is not answering"), "\(error)")
                    reportedAfter = ContinuousClock.now - froze
                    break
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
            print("HOSTILE-MEASURE frozen daemon: reported after \(reportedAfter.map { "\($0)" } ?? "never")")
            #expect(reportedAfter != nil && reportedAfter! < .seconds(2.5))
            #expect(slowest < .milliseconds(100), "an observation waited \(slowest)")

            frozen.withLock { $0 = false }
            #expect(await eventually(within: 5) { await runtime.observe(topologyID: nil).error == nil })
            runtime.shutdown()
            await group.waitForAll()
        }
        try await runtime.client.shutdown()
    }
}
