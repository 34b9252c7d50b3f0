import AgentProtocol
import DecnetJSON
import Foundation
import TestSupport
import Testing

extension FaultTests {
    /// The master is killed with `kill -9` and restarted on the same ports and directory, while its agents are idle
    /// and while one of them applies (docs/reliability.md#master-restart).
    @Suite("Master killed and restarted")
    struct MasterRestart {
        /// Three idle agents with the production reconnect settings (a random first interval of 200 to 1,000 ms
        /// per agent): each comes back with a `hello` from the same process (same boot id) carrying its true state, after
        /// a delay that differs from agent to agent.
        @Test func idleAgentsReconnectWithJitterAndSayHello() async throws {
            try await FaultWorld.run { world in
                try await world.startMaster()
                let agents = ["idle-1", "idle-2", "idle-3"]
                var boots: [String: String] = [:]
                for id in agents {
                    try world.enrol(id)
                    try world.startAgent(id)
                }
                for id in agents {
                    let record = try await world.waitForRecord(id, "first hello") { $0["hello_at"] != .null }
                    boots[id] = record["boot_id"]?.stringValue
                }
                var spreads: [Int64] = []
                for round in 1...2 {
                    let killedAt = unixMillis()
                    try await world.killMaster()
                    try await world.startMaster()
                    let restartedAt = unixMillis()
                    var delays: [Int64] = []
                    for id in agents {
                        let record = try await world.waitForRecord(id, "hello after restart \(round)", within: 30) {
                            $0["hello_at"] != .null
                        }
                        let helloAt = try #require(record["hello_at"]?.integerValue?.int64Value)
                        delays.append(helloAt - killedAt)
                        #expect(record["boot_id"]?.stringValue == boots[id], "a new connection, not a new process")
                        #expect(record["connections"] == 1)
                        // The true state: nothing applied, Docker reachable, no drift.
                        #expect(record["topology_id"] == .null)
                        #expect(record["applied_version_hash"] == .null)
                        #expect(record["observed_error"] == .null)
                    }
                    measure("master_restart_\(round)_restart_ms_after_kill", restartedAt - killedAt)
                    measure(
                        "master_restart_\(round)_hello_ms_after_kill",
                        delays.map(String.init).joined(separator: ",")
                    )
                    // libzmq waits the agent's interval plus up to as much again at random before its first
                    // attempt: 0.2 to 2 s with intervals of 200 to 1,000 ms (docs/wire-protocol.md#liveness),
                    // doubling while the master is still down; never at once, never unbounded.
                    for delay in delays {
                        #expect(delay >= 200, "reconnected after \(delay) ms: no delay at all")
                        #expect(delay <= 12_000, "reconnected after \(delay) ms")
                    }
                    spreads.append(delays.max()! - delays.min()!)
                }
                measure("master_restart_hello_spread_ms", spreads.map(String.init).joined(separator: ","))
                // Jitter: three agents do not all come back within the same 100 ms in both rounds.
                #expect(spreads.contains { $0 > 100 }, "spreads \(spreads) ms")
            }
        }

        /// Killed while an agent applies (after its first `containers` progress), restarted once the agent has
        /// finished: the operator's waiting submit is re-sent to the new master, which sends the same request id
        /// to the agent when it says hello; the agent answers from its store. One result, each container created
        /// once, the same container ids, and a later retry gets the same result again.
        @Test func killedDuringAnApplyTheResultArrivesOnceFromTheStore() async throws {
            try await FaultWorld.run { world in
                try await world.startMaster()
                let agentID = "applier"
                try world.enrol(agentID)
                try world.startAgent(agentID)
                let first = try await world.waitForRecord(agentID, "hello") { $0["hello_at"] != .null }
                let boot = try #require(first["boot_id"]?.stringValue)
                let topology = world.topology(deckies: 6)
                let master = try #require(world.master)
                let events = try DockerEventLog.start(topology.id, world: world)
                let killedAt = Locked<Int64?>(nil)
                let request = topology.applyRequest(id: "apply-through-restart")
                let submit = Task {
                    try await world.submit(agentID, request, timeout: 120) { message in
                        guard FaultWorld.progress(message)?.phase == "containers", killedAt.value == nil else { return }
                        master.sendKill()
                        killedAt.withLock { $0 = unixMillis() }
                    }
                }
                defer { submit.cancel() }
                try await eventually("the master killed during the containers phase", within: 60) {
                    killedAt.value != nil
                }
                _ = try await master.exitStatus(within: 10)
                let runningAtKill = try DockerProbe.runningNames(topology.id).count
                // The agent carries on alone; its result finds no master and is dropped (kept in its store).
                try await eventually("the apply to finish while the master is down", within: 60) {
                    try DockerProbe.runningNames(topology.id) == topology.containerNames
                }
                try await Task.sleep(for: .milliseconds(500))
                let ids = try DockerProbe.containers(topology.id).mapValues(\.id)
                let restartedAt = unixMillis()
                try await world.startMaster()
                let result = try await submit.value
                let resultAt = unixMillis()
                let record = try await world.waitForRecord(agentID, "hello to the new master") {
                    $0["hello_at"] != .null
                }
                let helloAt = try #require(record["hello_at"]?.integerValue?.int64Value)
                measure(
                    "apply_master_kill_containers_running_at_kill",
                    "\(runningAtKill)/\(topology.containerNames.count)"
                )
                measure("apply_master_kill_hello_ms_after_restart", helloAt - restartedAt)
                measure("apply_master_kill_result_ms_after_restart", resultAt - restartedAt)

                let applied = try ResultMessage(answer: result)
                #expect(applied.status == 200)
                #expect(applied.body?["status"] == "applied")
                #expect(applied.body?["version_hash"]?.stringValue == topology.hash)
                #expect(record["boot_id"]?.stringValue == boot)
                #expect(record["applied_version_hash"]?.stringValue == topology.hash, "hello carries the new state")
                let creations = events.creations()
                #expect(creations == Dictionary(uniqueKeysWithValues: topology.containerNames.map { ($0, 1) }))
                #expect(try DockerProbe.containers(topology.id).mapValues(\.id) == ids)

                // A retry long after the result: the stored result, the same bytes, nothing executed.
                let late = try await world.submit(agentID, request, timeout: 30)
                #expect(JSONValue.object(late).jsonText == JSONValue.object(result).jsonText)
                // The stored answer came back; the event log, brought up to date, shows nothing new either.
                try await events.sync()
                #expect(events.creations() == creations)

                let state = try await world.state(agentID)
                #expect(state["applied_version_hash"]?.stringValue == topology.hash)
                #expect(state["attempt"] == .null)
                #expect(DriftLists(state).isEmpty, "\(DriftLists(state))")
                #expect(state["observed"]?["containers"]?.stringSet == topology.containerNames)

                let down = try await world.submit(agentID, topology.teardownRequest(id: "teardown-after-restart"))
                #expect(try ResultMessage(answer: down).status == 200)
                #expect(try DockerProbe.containers(topology.id).isEmpty)
                #expect(try DockerProbe.networks(topology.id).isEmpty)
            }
        }
    }
}
