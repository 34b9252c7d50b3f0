import AgentCore
import AgentProtocol
import DecnetJSON
import DockerEngine
import Foundation
import TestSupport
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
            let reported = try await eventually(within: 5) { try await checkedState(f).observed.error != nil }
            #expect(reported, "the observer reports the stopped daemon")
            let (downValue, elapsed) = await f.timedState()
            #expect(elapsed < .seconds(1), "state answered in \(elapsed)")
            let down = try AgentState(downValue)
            #expect(down.observed.error?.isEmpty == false)
            #expect(down.drift == nil)
            #expect(down.appliedVersionHash == hash)

            let start = ContinuousClock.now
            let apply = await f.apply(topology.hydrated)
            #expect(apply.failure?.code == .dockerUnavailable && apply.failure?.status == 503)
            #expect(apply.failure?.message.contains(f.daemon.socketPath) == true)
            let teardown = await f.teardown(topology.id)
            #expect(teardown.failure?.code == .dockerUnavailable && teardown.failure?.status == 503)
            #expect(ContinuousClock.now - start < .seconds(5), "both refused without waiting out retries")
            let after = try await currentState(f)
            #expect(after.appliedVersionHash == hash, "a refused apply keeps what was applied")
            #expect(after.attempt?.error.hasPrefix("[docker_unavailable]") == true)
            #expect(after.drift == nil)

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
            let cleared = try await currentState(f)
            #expect(cleared.topologyID == nil && cleared.appliedVersionHash == nil)
        }
    }

    /// The daemon stops (SIGTERM, and the apply waits in its progress callback until dockerd has exited) after
    /// the second container. With one container at a time the next call meets a daemon that is gone:
    /// `docker_unavailable`. With four, the other containers' calls race the stopping daemon, which still answers
    /// on open connections while it stops its containers, so a start can fail with Docker's own error first
    /// (`runtime_error`, e.g. "cannot join network of a non running container"). Either way the re-apply after the
    /// restart converges.
    @Test(.timeLimit(.minutes(2)), arguments: [1, 4])
    func aDaemonStoppedDuringAnApplyGivesAClearErrorAndAReApplyConverges(concurrency: Int) async throws {
        let topology = OutageTopology(deckies: 6)
        try await OutageFixture.with(topologyID: topology.id, containerConcurrency: concurrency) { f in
            let start = ContinuousClock.now
            let result = await f.apply(topology.hydrated, progress: f.stopDaemon(afterContainers: 2))
            let answered = ContinuousClock.now - start
            let failure = try #require(result.failure, "the apply cannot succeed with the daemon stopped half-way")
            print("outage: concurrency \(concurrency), the interrupted apply answered in \(answered): \(failure)")
            expectInterrupted(failure, phase: "containers", concurrency: concurrency, socketPath: f.daemon.socketPath)
            #expect(answered < .seconds(20), "with 0.2 s + 0.4 s retries the failed apply answered in \(answered)")

            let down = try await currentState(f)
            #expect(down.appliedVersionHash == nil, "nothing was applied completely")
            #expect(down.attempt?.topologyID == topology.id)
            #expect(down.attempt?.error.hasPrefix("[\(failure.code.rawValue)]") == true)
            #expect(down.observed.error?.isEmpty == false)
            #expect(down.drift == nil)

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

    /// The daemon stops after the teardown removed three containers (services go first). The teardown answers
    /// with a clear error and the topology stays recorded as applied: it was not torn down. Once the daemon is
    /// back, `state` shows what is left (the removed containers as missing), and both ways out converge: another
    /// teardown (one container at a time) or a re-apply that restores everything, then a teardown (four at a time).
    @Test(.timeLimit(.minutes(2)), arguments: [1, 4])
    func aDaemonStoppedDuringATeardownGivesAClearErrorAndTheAgentConvergesAfterwards(concurrency: Int) async throws {
        let topology = OutageTopology(deckies: 4)
        try await OutageFixture.with(topologyID: topology.id, containerConcurrency: concurrency) { f in
            let hash = CanonicalHash.hash(topology.hydrated)
            #expect(try await f.apply(topology.hydrated).get()["status"] == "applied")
            try await expectTruthfulState(f, topology, applied: true, driftFree: true)

            let start = ContinuousClock.now
            let result = await f.teardown(topology.id, progress: f.stopDaemon(afterContainers: 3, in: .teardown))
            let answered = ContinuousClock.now - start
            let failure = try #require(result.failure, "the teardown cannot finish with the daemon stopped half-way")
            print("outage: concurrency \(concurrency), the interrupted teardown answered in \(answered): \(failure)")
            expectInterrupted(failure, phase: "teardown", concurrency: concurrency, socketPath: f.daemon.socketPath)
            #expect(answered < .seconds(20), "with 0.2 s + 0.4 s retries the failed teardown answered in \(answered)")

            // Still recorded as applied; the observer reports the daemon's absence instead of inventing drift.
            let reported = try await eventually(within: 5) { try await checkedState(f).observed.error != nil }
            #expect(reported, "the observer reports the stopped daemon")
            let down = try await checkedState(f)
            #expect(down.appliedVersionHash == hash, "an unfinished teardown removes no record")
            #expect(down.topologyID == topology.id)
            #expect(down.drift == nil)
            let refused = await f.teardown(topology.id)
            #expect(refused.failure?.code == .dockerUnavailable, "\(refused)")

            try await f.daemon.start()
            let recovered = try await eventually(within: 20) { try await observerRecovered(f) }
            #expect(recovered, "the observer recovers after the restart")
            // What the interrupted teardown removed is missing; what it did not reach is there.
            try await expectTruthfulState(f, topology, applied: true)
            let left = try await f.listed(topology.id).all
            #expect(left.count < topology.containerNames.count, "the teardown removed some before the daemon stopped")
            #expect(try await f.networks(topology.id) == [topology.networkName], "bridges go after every container")
            let missing = try await checkedState(f).drift?.missingContainers.count ?? 0
            #expect(missing == topology.containerNames.count - left.count)

            if concurrency == 4 {
                #expect(try await f.apply(topology.hydrated).get()["status"] == "applied")
                let listed = try await f.listed(topology.id)
                #expect(listed.all == topology.containerNames && listed.running == topology.containerNames)
                try await expectTruthfulState(f, topology, applied: true, driftFree: true)
            }
            let removed = try await f.teardown(topology.id).get()
            #expect(removed["status"] == "torn_down")
            let removedNames = Set(removed["removed"]?["containers"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            #expect(removedNames == (concurrency == 4 ? topology.containerNames : left))
            #expect(removed["removed"]?["bridges"] == [JSONValue(topology.networkName)])
            #expect(try await f.listed(topology.id).all.isEmpty)
            #expect(try await f.networks(topology.id).isEmpty)
            let cleared = try await currentState(f)
            #expect(cleared.topologyID == nil && cleared.appliedVersionHash == nil)
            #expect(cleared.attempt == nil)
        }
    }

    /// With the agent's own retry policy (5 s, then 10 s), the call that meets the vanished daemon waits out one
    /// retry span; the roll-back of the failed first apply must not add a span per created object (it once took
    /// 210 s for 14 containers): it makes one attempt per object and stops at the first "unavailable".
    @Test(.timeLimit(.minutes(2)))
    func anApplyInterruptedByAVanishedDaemonAnswersWithinOneRetrySpan() async throws {
        let topology = OutageTopology(deckies: 2)
        try await OutageFixture.with(topologyID: topology.id, retry: .seed, containerConcurrency: 1) { f in
            let start = ContinuousClock.now
            let result = await f.apply(topology.hydrated, progress: f.stopDaemon(afterContainers: 1))
            let answered = ContinuousClock.now - start
            print("outage: with the agent's retry policy the interrupted apply answered in \(answered)")
            #expect(result.failure?.code == .dockerUnavailable, "\(result)")
            #expect(answered < .seconds(25), "answered in \(answered)")

            try await f.daemon.start()
            #expect(try await f.apply(topology.hydrated).get()["status"] == "applied")
            #expect(try await f.listed(topology.id).running == topology.containerNames)
            #expect(try await f.teardown(topology.id).get()["status"] == "torn_down")
            #expect(try await f.listed(topology.id).all.isEmpty)
        }
    }
}
