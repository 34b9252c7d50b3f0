import DecnetJSON
import DockerEngine
import Synchronization
import TestSupport
import Testing
import Topology

@testable import DockerRuntime

/// Compose's decisions (keep, start, restart, create, recreate), teardown order, retries and the bounded runner,
/// without a daemon.
@Suite struct ReconciliationTests {
    static func existing(
        _ name: String,
        state: String = "running",
        hash: String? = "h1",
        networkMode: String = "bridge",
        role: String? = nil
    ) -> ExistingContainer {
        var labels = ["decnet.topology.id": "t1"]
        if let hash { labels["com.docker.compose.config-hash"] = hash }
        if let role { labels["decnet.topology.role"] = role }
        return ExistingContainer(id: "id-" + name, name: name, state: state, labels: labels, networkMode: networkMode)
    }

    @Test func baseDecisions() {
        #expect(ContainerAction.forBase(existing: nil, configHash: "h1", forced: false) == .create)
        #expect(ContainerAction.forBase(existing: Self.existing("b"), configHash: "h1", forced: false) == .keep)
        #expect(
            ContainerAction.forBase(existing: Self.existing("b", state: "exited"), configHash: "h1", forced: false)
                == .start
        )
        #expect(
            ContainerAction.forBase(existing: Self.existing("b", state: "created"), configHash: "h1", forced: false)
                == .start
        )
        #expect(
            ContainerAction.forBase(existing: Self.existing("b", state: "paused"), configHash: "h1", forced: false)
                == .keep
        )
        #expect(ContainerAction.forBase(existing: Self.existing("b"), configHash: "h2", forced: false) == .recreate)
        #expect(
            ContainerAction.forBase(existing: Self.existing("b", hash: nil), configHash: "h1", forced: false)
                == .recreate
        )
        #expect(ContainerAction.forBase(existing: Self.existing("b"), configHash: "h1", forced: true) == .recreate)
    }

    @Test func serviceDecisionsFollowTheirBase() {
        let joined = Self.existing("s", networkMode: "container:B1")
        func action(
            _ e: ExistingContainer?,
            hash: String = "h1",
            forced: Bool = false,
            base: String = "B1",
            started: Bool = false
        )
            -> ContainerAction
        {
            ContainerAction.forService(
                existing: e,
                configHash: hash,
                forced: forced,
                baseID: base,
                baseStarted: started
            )
        }
        #expect(action(nil) == .create)
        #expect(action(joined) == .keep)
        #expect(action(Self.existing("s", state: "exited", networkMode: "container:B1")) == .start)
        #expect(action(joined, hash: "h2") == .recreate)
        #expect(action(joined, forced: true) == .recreate)
        // The base was replaced (new id): the service sits in a dead namespace, whatever its hash.
        #expect(action(joined, base: "B2") == .recreate)
        #expect(action(joined, base: "B2", started: true) == .recreate)
        // The base was started again: a running service must rejoin its new namespace, a stopped one just starts.
        #expect(action(joined, started: true) == .restart)
        #expect(action(Self.existing("s", state: "exited", networkMode: "container:B1"), started: true) == .start)
    }

    @Test func dependantsAreRemovedFirst() {
        let groups = ExistingContainer.dependantsFirst([
            Self.existing("base1", role: "base"), Self.existing("svc1", networkMode: "container:x"),
            Self.existing("svc2", role: nil), Self.existing("svc3", role: "service"),
        ])
        #expect(groups.map { $0.map(\.name) } == [["svc1", "svc3"], ["base1", "svc2"]])
        #expect(ExistingContainer.dependantsFirst([]).isEmpty)
    }

    static func network(_ name: String, id: String? = nil) throws -> DockerNetwork {
        try DockerNetwork(json: ["Id": JSONValue(id ?? "id-" + name), "Name": JSONValue(name), "Driver": "bridge"])
    }

    @Test func networksGoInTeardownOrderThenTheRestByName() throws {
        let networks = try ["n_c", "n_a", "n_z", "n_b", "n_y"].map { try Self.network($0) }
        let order = DockerTopologyRuntime.removalOrder(networks, teardownOrder: ["n_b", "n_missing", "n_a"])
        #expect(order.map(\.name) == ["n_b", "n_a", "n_c", "n_y", "n_z"])
    }

    @Test func lansThatShareANetworkNameGiveOneBridgeWithTheLastSubnet() {
        let bridges = DockerTopologyRuntime.uniqueBridges([
            BridgeSpec(name: "n_lan", subnet: "10.0.0.0/24", internal: true, lanName: "LAN"),
            BridgeSpec(name: "n_dmz", subnet: "10.9.0.0/24", internal: false, lanName: "dmz"),
            BridgeSpec(name: "n_lan", subnet: "10.0.1.0/24", internal: true, lanName: "lan"),
        ])
        #expect(bridges.map(\.name) == ["n_lan", "n_dmz"])
        #expect(bridges.map(\.subnet) == ["10.0.1.0/24", "10.9.0.0/24"])
    }

    @Test func reuseNeedsDriverSubnetAndInternalFlag() throws {
        let bridge = BridgeSpec(name: "n", subnet: "10.0.0.0/24", internal: true, lanName: "lan")
        func network(
            driver: String = "bridge",
            subnet: String = "10.0.0.0/24",
            isInternal: Bool = true
        ) throws
            -> DockerNetwork
        {
            try DockerNetwork(json: [
                "Id": "x", "Name": "n", "Driver": JSONValue(driver), "Internal": .bool(isInternal),
                "IPAM": ["Config": [["Subnet": JSONValue(subnet)]]],
            ])
        }
        #expect(DockerTopologyRuntime.matches(try network(), bridge))
        #expect(!DockerTopologyRuntime.matches(try network(driver: "macvlan"), bridge))
        #expect(!DockerTopologyRuntime.matches(try network(subnet: "10.0.1.0/24"), bridge))
        #expect(!DockerTopologyRuntime.matches(try network(isInternal: false), bridge))
    }

    /// The seed's policy on a manual clock: each retry comes after its full delay (5 s, then 10 s) and not before,
    /// the last error is rethrown (docs/deviations.md#retries-per-operation).
    @Test func transientFailuresAreRetriedWithThePolicysDelays() async throws {
        let clock = ManualClock()
        let policy = RetryPolicy(clock: clock)
        #expect(policy.delays == RetryPolicy.seed.delays)
        let retries = Locked<[Int]>([])
        let attempts = Locked(0)
        let run = Task { () async -> DockerError? in
            do throws(DockerError) {
                // swift-format-ignore: OnlyOneTrailingClosureArgument
                _ = try await policy.run("op", onRetry: { r in retries.withLock { $0.append(r.attempt) } }) {
                    () async throws(DockerError) in
                    attempts.withLock { $0 += 1 }
                    throw DockerError(.server, status: 500, operation: "op", message: "connection reset by peer")
                }
                return nil
            } catch {
                return error
            }
        }
        try await clock.waitForSleepers(1)
        #expect(attempts.withLock { $0 } == 1 && clock.deadlines == [.init(offset: .seconds(5))])
        clock.advance(by: .seconds(5) - .milliseconds(1))
        #expect(clock.sleeperCount == 1 && attempts.withLock { $0 } == 1)
        clock.advance(by: .milliseconds(1))
        try await clock.waitForSleepers(1)
        #expect(attempts.withLock { $0 } == 2 && clock.deadlines == [.init(offset: .seconds(15))])
        clock.advance(by: .seconds(10))
        let error = await run.value
        #expect(error?.code == .server)
        #expect(attempts.withLock { $0 } == 3 && retries.withLock { $0 } == [1, 2])
        #expect(clock.elapsed == .seconds(15))

        attempts.withLock { $0 = 0 }
        let recovered = Task {
            try await policy.run("op", onRetry: nil) { () async throws(DockerError) -> Int in
                let n = attempts.withLock { a -> Int in
                    a += 1
                    return a
                }
                if n < 2 { throw DockerError(.unavailable, operation: "op", message: "reset") }
                return n
            }
        }
        try await clock.waitForSleepers(1)
        clock.advance(by: .seconds(5))
        #expect(try await recovered.value == 2)
    }

    /// Cancelled while it waits to retry, the policy ends at once with `cancelled`, without another attempt.
    @Test func aCancelledWaitEndsTheRetries() async throws {
        let clock = ManualClock()
        let attempts = Locked(0)
        let run = Task { () async -> DockerError? in
            do throws(DockerError) {
                _ = try await RetryPolicy(clock: clock).run("op", onRetry: nil) { () async throws(DockerError) in
                    attempts.withLock { $0 += 1 }
                    throw DockerError(.unavailable, operation: "op", message: "reset")
                }
                return nil
            } catch {
                return error
            }
        }
        try await clock.waitForSleepers(1)
        run.cancel()
        let error = await run.value
        #expect(error?.code == .cancelled && attempts.withLock { $0 } == 1)
    }

    @Test(arguments: [
        DockerError(.server, status: 500, operation: "op", message: "pull access denied for x"),
        DockerError(.server, status: 500, operation: "op", message: "manifest unknown"),
        DockerError(.notFound, status: 404, operation: "op", message: "No such image: x"),
        DockerError(.conflict, status: 409, operation: "op", message: "name in use"),
        DockerError(.buildFailed, status: 200, operation: "op", message: "returned a non-zero code: 1"),
    ])
    func permanentFailuresAreNotRetried(_ failure: DockerError) async {
        let attempts = Mutex(0)
        let error = await #expect(throws: DockerError.self) {
            // swift-format-ignore: OnlyOneTrailingClosureArgument
            try await RetryPolicy(delays: [.milliseconds(1)]).run("op", onRetry: { _ in Issue.record("retried") }) {
                () async throws(DockerError) in
                attempts.withLock { $0 += 1 }
                throw failure
            }
        }
        #expect(error == failure && attempts.withLock { $0 } == 1)
    }

    @Test func boundedRunnerKeepsTheLimitAndStopsStartingAfterAFailure() async throws {
        let counters = Mutex((running: 0, peak: 0, started: [Int]()))
        let failure = await #expect(throws: RuntimeFailure.self) {
            try await runBounded(Array(0..<12), limit: 3) { i throws(RuntimeFailure) in
                counters.withLock { c in
                    c.running += 1
                    c.peak = max(c.peak, c.running)
                    c.started.append(i)
                }
                try? await Task.sleep(for: .milliseconds(20))
                counters.withLock { $0.running -= 1 }
                if i == 4 { throw RuntimeFailure(.failed, phase: "containers", "item 4") }
            }
        }
        #expect(failure?.message == "item 4")
        let c = counters.withLock { $0 }
        #expect(c.peak == 3 && c.running == 0)
        // Items already running when 4 failed finish; nothing after them starts.
        #expect(c.started.count < 12 && c.started.contains(4))
    }
}
