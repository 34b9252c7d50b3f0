import DecnetJSON
import Foundation
import Master
import TestSupport
import Testing
import Topology

extension FaultTests {
    /// The master keeps the fleet converged (docs/control-channel.md#reconcile), against a real agent process and the
    /// real dockerd: drift behind the agent's back, an agent that lost everything, a desired "none", an apply that
    /// keeps failing, and a master killed with `kill -9` in the middle of an apply.
    @Suite("Reconcile with real processes")
    struct Reconcile {
        /// Fast settings so a test takes seconds: drift after 2 heartbeats (1 s apart), back-off 1 s doubling to 4 s.
        static let masterArguments = [
            "--reconcile-drift-heartbeats", "2", "--reconcile-backoff", "1", "--reconcile-backoff-max", "4",
        ]

        /// Sends a `desire` (what `decnet-master apply|teardown` does) and returns the agent's result.
        static func desire(
            _ world: FaultWorld,
            _ agentID: String,
            _ request: JSONValue,
            timeout: Double = 120
        )
            async throws -> JSONObject
        {
            try await world.withControl { client in
                try await client.submit(
                    agentID: agentID,
                    request: request,
                    timeout: .milliseconds(Int64(timeout * 1000)),
                    resendEvery: .milliseconds(500),
                    desire: true
                )
            }
        }

        /// The agent's entry in the master's `desired` message.
        static func desired(_ world: FaultWorld, _ agentID: String) async throws -> JSONValue {
            let answer = try await world.withControl { try await $0.desired(agentID: agentID) }
            return answer["agents"]?.arrayValue?.first ?? .null
        }

        /// Containers killed and removed behind the agent's back come back without an operator; an agent whose host
        /// lost everything (containers and state folder) is brought back when it says hello.
        @Test func driftAndALostAgentComeBackWithoutAnOperator() async throws {
            try await FaultWorld.run { world in
                try await world.startMaster(extraArguments: Self.masterArguments)
                let agentID = "converger"
                try world.enrol(agentID)
                try world.startAgent(agentID)
                _ = try await world.waitForRecord(agentID, "hello") { $0["hello_at"] != .null }
                let topology = world.topology(deckies: 3)
                let applied = try await Self.desire(world, agentID, topology.applyRequest(id: "desired-1"))
                #expect(applied["status"] == 200)
                try await eventually("in sync", within: 30) {
                    try await Self.desired(world, agentID)["in_sync"] == true
                }

                // Drift: one container removed, one stopped, by someone else.
                let victims = topology.containerNames.sorted()
                try DockerProbe.run(["rm", "-f", victims[0]])
                try DockerProbe.run(["stop", "-t", "0", victims[1]])
                let driftAt = ContinuousClock.now
                try await eventually("drift repaired by the master", within: 60) {
                    try DockerProbe.runningNames(topology.id) == topology.containerNames
                }
                measure("reconcile_drift_repaired_ms", millis(since: driftAt))
                try await eventually("in sync after the repair", within: 30) {
                    try await Self.desired(world, agentID)["in_sync"] == true
                }
                let afterDrift = try await Self.desired(world, agentID)
                #expect(afterDrift["reconcile"]?["pushes"] == 1)
                #expect(afterDrift["reconcile"]?["attempts"] == 0)

                // The host lost everything: agent killed, its containers and networks and its state folder gone.
                try await world.agent(agentID)?.kill9()
                DockerProbe.removeTopology(topology.id)
                for name in try FileManager.default.contentsOfDirectory(atPath: world.stateDirectory(agentID)) {
                    try FileManager.default.removeItem(atPath: world.stateDirectory(agentID) + "/" + name)
                }
                try world.startAgent(agentID)
                let restartAt = ContinuousClock.now
                try await eventually("the topology back on the reinstalled agent", within: 90) {
                    try DockerProbe.runningNames(topology.id) == topology.containerNames
                }
                measure("reconcile_lost_agent_restored_ms_after_start", millis(since: restartAt))
                try await eventually("in sync after the restore", within: 30) {
                    try await Self.desired(world, agentID)["in_sync"] == true
                }
                let state = try await world.state(agentID)
                #expect(state["applied_version_hash"]?.stringValue == topology.hash)
                #expect(DriftLists(state).isEmpty, "\(DriftLists(state))")

                // Steady: a few seconds of heartbeats in sync start nothing.
                let pushes = try await Self.desired(world, agentID)["reconcile"]?["pushes"]
                try await Task.sleep(for: .seconds(4))
                #expect(try await Self.desired(world, agentID)["reconcile"]?["pushes"] == pushes)
                #expect(try await Self.desired(world, agentID)["in_sync"] == true)
            }
        }

        /// Desired "none" recorded while the agent was away: when it comes back with the topology the master put
        /// there, the master tears it down.
        @Test func desiredNoneTearsDownWhatTheMasterApplied() async throws {
            try await FaultWorld.run { world in
                try await world.startMaster(extraArguments: Self.masterArguments)
                let agentID = "none-tearer"
                try world.enrol(agentID)
                try world.startAgent(agentID)
                _ = try await world.waitForRecord(agentID, "hello") { $0["hello_at"] != .null }
                let topology = world.topology(deckies: 2)
                #expect(try await Self.desire(world, agentID, topology.applyRequest(id: "up-1"))["status"] == 200)
                try await world.agent(agentID)?.kill9()
                // The teardown cannot reach the agent: it ends unsent, but "none" is recorded.
                do {
                    _ = try await Self.desire(world, agentID, topology.teardownRequest(id: "down-1"), timeout: 3)
                    Issue.record("the teardown reached a dead agent")
                } catch {}
                #expect(try await Self.desired(world, agentID)["desired"]?["topology_id"] == .null)
                #expect(try DockerProbe.runningNames(topology.id) == topology.containerNames)
                try world.startAgent(agentID)
                let startedAt = ContinuousClock.now
                try await eventually("the topology torn down by the master", within: 60) {
                    try DockerProbe.containers(topology.id).isEmpty && DockerProbe.networks(topology.id).isEmpty
                }
                measure("reconcile_none_torn_down_ms_after_start", millis(since: startedAt))
                try await eventually("in sync with none", within: 30) {
                    try await Self.desired(world, agentID)["in_sync"] == true
                }
            }
        }

        /// An apply the agent refuses every time: the master retries ever more slowly and says why.
        @Test func aFailingApplyBacksOffAndSaysWhy() async throws {
            try await FaultWorld.run { world in
                try await world.startMaster(extraArguments: Self.masterArguments)
                let agentID = "refuser"
                try world.enrol(agentID)
                try world.startAgent(agentID)
                _ = try await world.waitForRecord(agentID, "hello") { $0["hello_at"] != .null }
                // A topology the agent's validator refuses (a decky without its members, an unknown service).
                let topology = world.topology(deckies: 1)
                let bad: JSONValue = [
                    "topology": ["id": JSONValue(topology.id), "name": "refused"], "lans": [],
                    "deckies": [["uuid": "d-1", "name": "x", "services": ["no-such-service"], "decky_config": [:]]],
                    "edges": [],
                ]
                let request: JSONValue = [
                    "proto": 1, "type": "apply", "id": "refused-1", "hydrated": bad,
                    "version_hash": JSONValue(CanonicalHash.hash(bad)), "supersede": false,
                ]
                let first = try await Self.desire(world, agentID, request)
                #expect(first["status"] != 200)
                let startedAt = ContinuousClock.now
                try await Task.sleep(for: .seconds(12))
                let entry = try await Self.desired(world, agentID)
                let reconcile = entry["reconcile"]
                measure("reconcile_failing_pushes_in_12s", reconcile?["pushes"]?.intValue ?? -1)
                // Between pushes it backs off; during one it is pushing; right after one, a heartbeat sent while the
                // agent still ran it can show it busy for a moment.
                let state = reconcile?["state"]?.stringValue ?? ""
                #expect(["backing_off", "pushing", "waiting"].contains(state), "\(entry)")
                #expect(entry["in_sync"] == false)
                let lastError = reconcile?["last_error"]?.stringValue ?? ""
                measure("reconcile_failing_last_error", lastError)
                #expect(
                    lastError.hasPrefix("[invalid_topology]") || lastError.hasPrefix("[bad_request]"),
                    "\(lastError)"
                )
                // Operator apply at 0, then pushes about 1, 3, 7 and 11 s later (back-off 1, 2, 4, 4 s): never a loop.
                let pushes = reconcile?["pushes"]?.intValue ?? 0
                #expect((2...5).contains(pushes), "\(pushes) pushes in \(millis(since: startedAt)) ms")
                #expect(reconcile?["attempts"]?.intValue ?? 0 >= 2)
            }
        }

        /// `kill -9` of the master while a desired apply runs: the restarted master still knows the request, gets its
        /// result from the agent (same id, from the agent's store), reports it to the client re-sending the desire,
        /// and keeps the desired state.
        @Test func aMasterKilledMidApplyDeliversTheResultAndKeepsTheDesiredState() async throws {
            try await FaultWorld.run { world in
                try await world.startMaster(extraArguments: Self.masterArguments)
                let agentID = "survivor"
                try world.enrol(agentID)
                try world.startAgent(agentID)
                _ = try await world.waitForRecord(agentID, "hello") { $0["hello_at"] != .null }
                let topology = world.topology(deckies: 6)
                let master = try #require(world.master)
                let killed = Locked(false)
                let request = topology.applyRequest(id: "desired-through-kill")
                let submit = Task {
                    try await world.withControl { client in
                        try await client.submit(
                            agentID: agentID,
                            request: request,
                            timeout: .seconds(120),
                            resendEvery: .milliseconds(500),
                            desire: true
                        ) { message in
                            guard FaultWorld.progress(message)?.phase == "containers", !killed.value else { return }
                            master.sendKill()
                            killed.withLock { $0 = true }
                        }
                    }
                }
                defer { submit.cancel() }
                try await eventually("the master killed during the containers phase", within: 60) { killed.value }
                _ = try await master.exitStatus(within: 10)
                let restartedAt = ContinuousClock.now
                try await world.startMaster(extraArguments: Self.masterArguments)
                let result = try await submit.value
                measure("reconcile_master_kill_result_ms_after_restart", millis(since: restartedAt))
                #expect(result["status"] == 200)
                #expect(result["id"] == "desired-through-kill")
                let entry = try await Self.desired(world, agentID)
                #expect(entry["desired"]?["topology_id"]?.stringValue == topology.id)
                #expect(entry["desired"]?["request_id"] == "desired-through-kill")
                try await eventually("in sync after the restart", within: 30) {
                    try await Self.desired(world, agentID)["in_sync"] == true
                }
                #expect(try await Self.desired(world, agentID)["reconcile"]?["pushes"] == 0)
                #expect(try DockerProbe.runningNames(topology.id) == topology.containerNames)
            }
        }
    }
}
