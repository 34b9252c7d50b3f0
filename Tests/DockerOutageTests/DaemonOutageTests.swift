import AgentCore
import AgentProtocol
import DecnetJSON
import DockerEngine
import Foundation
import Testing
import Topology

/// The agent's operations while the Docker Engine is down, and after it comes back, against a private `dockerd`
/// the tests stop and start (the shared daemon is never touched). One test at a time: each runs a daemon.
@Suite(.serialized, .privateDockerd) struct DaemonOutageTests {
    @Test(.timeLimit(.minutes(2)))
    func aStoppedDaemonIsUnavailableEverywhereAndEverythingConvergesAfterItsRestart() async throws {
        let topology = OutageTopology(deckies: 3)
        try await OutageFixture.with(topologyID: topology.id) { f in
            let hash = CanonicalHash.hash(topology.hydrated)
            #expect(try await f.apply(topology.hydrated).get()["status"] == "applied")
            #expect(try await f.listed(topology.id).running == topology.containerNames)
            try await expectTruthfulState(f, topology, applied: true)

            await f.daemon.stop()

            // state answers at once from what the observer knows, with the error and no drift.
            let reported = try await eventually(within: 5) { (try await checkedState(f))["observed"]?["error"] != nil }
            #expect(reported, "the observer reports the stopped daemon")
            let (down, elapsed) = await f.timedState()
            #expect(elapsed < .seconds(1), "state answered in \(elapsed)")
            #expect(down["observed"]?["error"]?.stringValue?.isEmpty == false)
            #expect(down["drift"] == .null)
            #expect(down["applied_version_hash"]?.stringValue == hash)

            let start = ContinuousClock.now
            let apply = await f.apply(topology.hydrated)
            #expect(apply.failure?.code == .dockerUnavailable && apply.failure?.status == 503)
            #expect(apply.failure?.message.contains(f.daemon.socketPath) == true)
            let teardown = await f.teardown(topology.id)
            #expect(teardown.failure?.code == .dockerUnavailable && teardown.failure?.status == 503)
            #expect(ContinuousClock.now - start < .seconds(5), "both refused without waiting out retries")
            let after = await f.operations.state()
            #expect(after["applied_version_hash"]?.stringValue == hash, "a refused apply keeps what was applied")
            #expect(after["attempt"]?["error"]?.stringValue?.hasPrefix("[docker_unavailable]") == true)
            #expect(after["drift"] == .null)

            try await f.daemon.start()

            // The observer re-subscribes and lists; the containers come back (restart: unless-stopped).
            let recovered = try await eventually(within: 20) { try await observerRecovered(f) }
            #expect(recovered, "the observer recovers after the restart")
            try await expectTruthfulState(f, topology, applied: true)

            #expect(try await f.apply(topology.hydrated).get()["status"] == "applied")
            #expect(try await f.listed(topology.id).running == topology.containerNames)
            #expect(try await f.networks(topology.id) == [topology.networkName])
            try await expectTruthfulState(f, topology, applied: true, driftFree: true)

            let removed = try await f.teardown(topology.id).get()
            #expect(removed["status"] == "torn_down")
            #expect(try await f.listed(topology.id).all.isEmpty)
            #expect(try await f.networks(topology.id).isEmpty)
            let cleared = await f.operations.state()
            #expect(cleared["topology_id"] == .null && cleared["applied_version_hash"] == .null)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func aDaemonStoppedDuringAnApplyGivesAClearErrorAndAReApplyConverges() async throws {
        let topology = OutageTopology(deckies: 8)
        try await OutageFixture.with(topologyID: topology.id) { f in
            let (started, signal) = AsyncStream<Int>.makeStream()
            let applying = Task {
                let result = await f.apply(topology.hydrated) { phase, done, _, _ in
                    if phase == .containers && done >= 2 { signal.yield(done) }
                }
                signal.finish()
                return result
            }
            var progress = started.makeAsyncIterator()
            guard await progress.next() != nil else {
                Issue.record("the apply ended before any container was made: \(await applying.value)")
                return
            }
            let stopping = ContinuousClock.now
            await f.daemon.stop()
            let stopped = ContinuousClock.now - stopping

            let result = await applying.value
            let answered = ContinuousClock.now - stopping
            let failure = try #require(result.failure, "the apply cannot succeed with the daemon stopped half-way")
            print("outage: dockerd stopped in \(stopped); the apply answered \(answered) after the stop: \(failure)")
            // The daemon gone mid-request is `docker_unavailable`; a request the stopping daemon still answered
            // with an error (it stops containers before it exits, so a service container's start can fail) is
            // `runtime_error` with Docker's message. Either way the phase is named.
            switch failure.code {
            case .dockerUnavailable:
                #expect(failure.status == 503)
            case .runtimeError:
                #expect(failure.status == 500 && failure.details["docker"]?.stringValue?.isEmpty == false, "\(failure)")
            default:
                Issue.record("unexpected error kind: \(failure)")
            }
            #expect(failure.details["phase"] == "containers", "\(failure)")
            #expect(answered < .seconds(40), "the failed apply answered \(answered) after the stop began")

            let down = await f.operations.state()
            #expect(down["applied_version_hash"] == .null, "nothing was applied completely")
            #expect(down["attempt"]?["topology_id"]?.stringValue == topology.id)
            #expect(down["attempt"]?["error"]?.stringValue?.hasPrefix("[\(failure.code.rawValue)]") == true)
            #expect(down["observed"]?["error"]?.stringValue?.isEmpty == false)
            #expect(down["drift"] == .null)

            try await f.daemon.start()
            let recovered = try await eventually(within: 20) { try await observerRecovered(f) }
            #expect(recovered, "the observer recovers after the restart")
            // Whatever the interrupted apply left is reported as it is: unexpected, since nothing is applied.
            try await expectTruthfulState(f, topology, applied: false)

            #expect(try await f.apply(topology.hydrated).get()["status"] == "applied")
            let listed = try await f.listed(topology.id)
            #expect(listed.all == topology.containerNames && listed.running == topology.containerNames)
            #expect(try await f.networks(topology.id) == [topology.networkName])
            try await expectTruthfulState(f, topology, applied: true, driftFree: true)

            #expect(try await f.teardown(topology.id).get()["status"] == "torn_down")
            #expect(try await f.listed(topology.id).all.isEmpty)
            #expect(try await f.networks(topology.id).isEmpty)
        }
    }
}
