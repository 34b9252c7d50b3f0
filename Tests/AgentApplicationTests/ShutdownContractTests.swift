import AgentApplication
import AgentCore
import AgentTransport
import DecnetJSON
import Foundation
import LiveTestSupport
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import TestSupport
import Testing
import Topology
import ZeroMQ

/// The agent's shutdown contract (docs/architecture.md#the-services-and-the-shutdown-order), in process: the services `buildAgent` assembles,
/// over the in-memory runtime, against a real master-side socket (`TestMaster`), stopped with
/// `ServiceLifecycleTestKit`'s graceful-shutdown trigger (what SIGTERM does in `decnet-agent run`).
@Suite("Agent shutdown contract", .serialized)
struct ShutdownContractTests {
    /// One built agent against a test master, and what its lifecycle hooks said.
    struct Harness {
        let master: TestMaster
        let id: String
        let runtime: InMemoryRuntime
        let app: AgentApplication
        let directory: String
        /// What the lifecycle hooks said (READY's status, the STOPPING statuses), in order.
        let said: Locked<[String]>

        /// The heartbeats the master received from this agent, in order.
        var heartbeats: [JSONValue] {
            master.published.value.filter { $0.topic == "hb.\(id)" }.map(\.message)
        }
    }

    /// Heartbeats every hour, so within a test the only heartbeats are the first one, those after a change, and the
    /// last one; the production linger (1 s), so closing sockets behaves as in the field.
    static func withHarness(
        limits: ShutdownLimits,
        runtime: InMemoryRuntime = InMemoryRuntime(),
        _ body: (Harness) async throws -> Void
    ) async throws {
        let master = try await TestMaster()
        let pump = Task { await master.pump() }
        let id = "shutdown-\(UUID().uuidString.prefix(8).lowercased())"
        let keys = try CurveKeyPair.generate()
        try master.allow(agentID: id, keys: keys)
        let directory = NSTemporaryDirectory() + "agent-shutdown-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let said = Locked<[String]>([])
        let settings = AgentSettings(
            agentID: id,
            agentVersion: "test",
            bootID: UUID().uuidString.lowercased(),
            stateDirectory: directory,
            templatesRoot: "/nonexistent",
            heartbeatIntervalMillis: 3_600_000
        )
        let link = AgentLinkConfiguration(
            agentID: id,
            commandEndpoint: master.commandEndpoint.value,
            heartbeatEndpoint: master.heartbeatEndpoint,
            masterKey: master.keys.publicKey,
            keys: keys,
            reconnectMillis: 100,
            reconnectMaxMillis: 500
        )
        let lifecycle = DaemonLifecycle(
            ready: { status in said.withLock { $0.append("ready: " + status) } },
            stopping: { status in said.withLock { $0.append(status) } },
            interval: .milliseconds(100)
        )
        let app = try await buildAgent(
            configuration: AgentConfiguration(
                settings: settings,
                link: link,
                preflight: PortPreflight(boundPorts: { () throws(ComposeError) in [] }),
                lifecycle: lifecycle,
                shutdown: limits
            ),
            runtime: runtime,
            logger: Logger(label: "test.agent.shutdown") { _ in SwiftLogNoOpLogHandler() }
        )
        let harness = Harness(
            master: master,
            id: id,
            runtime: runtime,
            app: app,
            directory: directory,
            said: said
        )
        var failure: (any Error)?
        do {
            try await body(harness)
        } catch {
            failure = error
        }
        await app.close()
        pump.cancel()
        await master.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
        if let failure { throw failure }
    }

    static func nowMillis() -> Int { Int(Date().timeIntervalSince1970 * 1000) }

    /// Runs the agent's service group under a test graceful-shutdown trigger: `beforeTrigger` once the agent said
    /// hello and READY, then the trigger, then `afterTrigger` while the group stops. Returns how long the group
    /// took from the trigger to return, and the wall-clock time of the trigger (for heartbeats' `sent_at`).
    static func runAndStop(
        _ h: Harness,
        extra: [ServiceGroupConfiguration.ServiceConfiguration] = [],
        beforeTrigger: () async throws -> Void = {},
        afterTrigger: () async throws -> Void = {}
    ) async throws -> (took: Duration, triggeredAtMillis: Int) {
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                let serviceGroup = h.app.serviceGroup(extra: extra)
                group.addTask { try? await serviceGroup.run() }
                try await h.master.waitFor("hello") {
                    h.master.commands.value.contains { $0.routingId == h.id && $0.message["type"] == "hello" }
                }
                try await h.master.waitFor("READY") { h.said.value.contains { $0.hasPrefix("ready: ") } }
                try await beforeTrigger()
                let triggeredAt = nowMillis()
                let start = ContinuousClock.now
                trigger.triggerGracefulShutdown()
                try await afterTrigger()
                try await group.next()
                return (ContinuousClock.now - start, triggeredAt)
            }
        }
    }

    @Test func idleGracefulShutdownPublishesAFinalHeartbeatWithinTheBound() async throws {
        let limits = ShutdownLimits(graceful: .seconds(10), cancellation: .seconds(5))
        try await Self.withHarness(limits: limits) { h in
            let (took, triggeredAt) = try await Self.runAndStop(h)
            #expect(took < limits.graceful)
            // Heartbeats come hourly here: one sent after the trigger is the last one.
            try await h.master.waitFor("a heartbeat sent after the trigger") {
                h.heartbeats.contains { ($0["sent_at"]?.intValue ?? 0) >= triggeredAt }
            }
            let last = try #require(h.heartbeats.last)
            #expect(last["running"] == .null)
            #expect(h.said.value.contains("stopping: closing the sockets"))
        }
    }

    @Test func gracefulShutdownDuringASlowApplySendsItsResultBeforeTheSocketsClose() async throws {
        let runtime = InMemoryRuntime()
        runtime.gate.close()
        let limits = ShutdownLimits(graceful: .seconds(20), cancellation: .seconds(5))
        try await Self.withHarness(limits: limits, runtime: runtime) { h in
            let t = Topologies.two
            let (took, _) = try await Self.runAndStop(
                h,
                beforeTrigger: {
                    h.master.send(
                        to: h.id,
                        [
                            "proto": 1, "type": "apply", "id": "slow", "hydrated": t,
                            "version_hash": .string(JSONString(CanonicalHash.hash(t))),
                        ]
                    )
                    try await h.master.waitFor("accepted") {
                        h.master.answers(id: "slow").contains { $0["type"] == "accepted" }
                    }
                },
                afterTrigger: {
                    // The dispatcher is told first: it stops taking commands while the apply is held.
                    try await h.master.waitFor("the dispatcher stopping") {
                        h.said.value.contains {
                            $0 == "stopping: finishing the running operation, then closing the sockets"
                        }
                    }
                    runtime.gate.open()
                }
            )
            #expect(took < limits.graceful)
            // The apply's result went out through the link before the link closed.
            try await h.master.waitFor("the apply's result") {
                h.master.answers(id: "slow").contains { $0["type"] == "result" }
            }
            // A well-formed result (it decodes, with its status), whatever its outcome.
            _ = try #require(h.master.results(id: "slow").last, "the apply's result does not decode")
            // The final heartbeat comes after the operation ended: nothing runs in it.
            try await h.master.waitFor("a heartbeat after the apply") {
                let beats = h.heartbeats
                guard let lastRunning = beats.lastIndex(where: { $0["running"]?["id"] == "slow" }) else {
                    return beats.contains { $0["running"] == .null && ($0["seq"]?.intValue ?? 0) > 1 }
                }
                return beats[(lastRunning + 1)...].contains { $0["running"] == .null }
            }
            #expect(h.said.value.last == "stopping: closing the sockets")
        }
    }

    /// A service that ignores graceful shutdown and only ends when cancelled.
    struct Hanging: Service {
        let cancelled: Locked<Bool>

        func run() async {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
            }
            cancelled.withLock { $0 = true }
        }
    }

    @Test func aServiceThatHangsOnShutdownIsCancelledAfterTheBound() async throws {
        let limits = ShutdownLimits(graceful: .seconds(1), cancellation: .seconds(10))
        try await Self.withHarness(limits: limits) { h in
            let cancelled = Locked(false)
            let (took, triggeredAt) = try await Self.runAndStop(
                h,
                extra: [.init(service: Hanging(cancelled: cancelled))]
            )
            #expect(cancelled.value)
            #expect(took >= limits.graceful)
            #expect(took < limits.graceful + limits.cancellation)
            // Cancelled at once, the agent still sends its last heartbeat before the link closes.
            try await h.master.waitFor("a heartbeat sent after the trigger") {
                h.heartbeats.contains { ($0["sent_at"]?.intValue ?? 0) >= triggeredAt }
            }
        }
    }

    @Test func afterTheBoundTheLinkStillWaitsForTheRunningApplysResult() async throws {
        let runtime = InMemoryRuntime()
        runtime.gate.close()
        let limits = ShutdownLimits(graceful: .seconds(1), cancellation: .seconds(15))
        try await Self.withHarness(limits: limits, runtime: runtime) { h in
            let cancelled = Locked(false)
            let t = Topologies.two
            _ = try await Self.runAndStop(
                h,
                extra: [.init(service: Hanging(cancelled: cancelled))],
                beforeTrigger: {
                    h.master.send(
                        to: h.id,
                        [
                            "proto": 1, "type": "apply", "id": "held", "hydrated": t,
                            "version_hash": .string(JSONString(CanonicalHash.hash(t))),
                        ]
                    )
                    try await h.master.waitFor("accepted") {
                        h.master.answers(id: "held").contains { $0["type"] == "accepted" }
                    }
                },
                afterTrigger: {
                    // The bound passed and the group cancelled every service, the link included, while the apply is
                    // still held: only now does it go on.
                    try await h.master.waitFor("the group cancelled") { cancelled.value }
                    runtime.gate.open()
                }
            )
            try await h.master.waitFor("the held apply's result") {
                h.master.answers(id: "held").contains { $0["type"] == "result" }
            }
        }
    }
}
