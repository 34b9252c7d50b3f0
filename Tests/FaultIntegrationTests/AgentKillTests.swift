import AgentProtocol
import AgentStore
import DecnetJSON
import Foundation
import TestSupport
import Testing

/// Where in an apply the agent is killed, seen from outside through its `progress` messages.
enum KillPoint: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// After the second of six bridges (one LAN per decky).
    case networks
    /// While a service image builds (from a 48 MB context).
    case images
    /// After the third of sixteen containers.
    case containers
    /// Waiting to write the applied row: a second SQLite connection holds the write lock from the networks phase on,
    /// so the agent sits in `record` until it is killed.
    case record
    /// Just after the applied row was written (`record` 1/1), before or after the request's result was stored.
    case recorded

    var testDescription: String { rawValue }

    func topology(_ world: FaultWorld) throws -> FaultTopology {
        switch self {
        case .networks: world.topology(deckies: 6, perLAN: 1)
        case .images: try world.topologyWithBuild(deckies: 2)
        case .containers: world.topology(deckies: 8)
        case .record, .recorded: world.topology(deckies: 2)
        }
    }

    func matches(_ p: (phase: String, done: Int, total: Int)) -> Bool {
        switch self {
        case .networks: p.phase == "networks" && p.done >= 2 && p.done < p.total
        case .images: p.phase == "images"
        case .containers: p.phase == "containers" && p.done >= 3
        case .record: p.phase == "record" && p.done == 0
        case .recorded: p.phase == "record" && p.done == 1
        }
    }

    /// Whether the kill comes after the applied row is written.
    var afterRecord: Bool { self == .recorded }
}

extension FaultTests {
    /// `kill -9` of the agent in each phase of an apply, then a restart with the same state directory
    /// (docs/reliability.md#agent-kill).
    @Suite("Agent killed in every apply phase")
    struct AgentKill {
        @Test(arguments: KillPoint.allCases)
        func killedThenRestarted(_ point: KillPoint) async throws {
            try await FaultWorld.run { world in
                try await world.startMaster()
                let agentID = "kill-\(point.rawValue)"
                try world.enrol(agentID)
                let first = try world.startAgent(agentID)
                let hello = try await world.waitForRecord(agentID, "hello") { $0["hello_at"] != .null }
                let firstBoot = try #require(hello["boot_id"]?.stringValue)
                let topology = try point.topology(world)
                let database = world.stateDirectory(agentID) + "/" + TopologyStore.fileName
                let requestID = "apply-killed-in-\(point.rawValue)"
                let events = try DockerEventLog.start(topology.id, world: world)
                let lock = Locked<StoreWriteLock?>(nil)
                let killedAt = Locked<(phase: String, done: Int, total: Int)?>(nil)
                let submit = Task {
                    try await world.submit(agentID, topology.applyRequest(id: requestID), timeout: 150) { message in
                        guard let p = FaultWorld.progress(message), killedAt.value == nil else { return }
                        if point == .record, p.phase == "networks", lock.value == nil {
                            lock.withLock { $0 = try? StoreWriteLock(path: database) }
                        }
                        if point.matches(p) {
                            first.sendKill()
                            killedAt.withLock { $0 = p }
                        }
                    }
                }
                defer { submit.cancel() }
                try await eventually("the agent killed in \(point)", within: 90) { killedAt.value != nil }
                _ = try await first.exitStatus(within: 10)
                if point == .record { #expect(lock.value != nil, "the store's write lock was taken") }
                lock.value?.release()
                let killed = try #require(killedAt.value)
                measure(
                    "agent_kill_\(point.rawValue)_progress_at_kill",
                    "\(killed.phase) \(killed.done)/\(killed.total)"
                )

                // What the kill left, once in-flight Docker calls have landed.
                try await Task.sleep(for: .seconds(1))
                let left = try DockerProbe.containers(topology.id)
                let leftNetworks = try DockerProbe.networks(topology.id)
                let quietSince = unixMillis()
                measure(
                    "agent_kill_\(point.rawValue)_left",
                    "\(leftNetworks.count)/\(topology.bridgeNames.count) networks, "
                        + "\(left.count)/\(topology.containerNames.count) containers"
                )
                switch point {
                case .networks:
                    #expect(left.isEmpty)
                    #expect(!leftNetworks.isEmpty && leftNetworks.count < topology.bridgeNames.count)
                case .images:
                    #expect(left.isEmpty)
                    #expect(Set(leftNetworks.keys) == topology.bridgeNames)
                case .containers:
                    #expect(!left.isEmpty && left.count < topology.containerNames.count)
                case .record, .recorded:
                    #expect(Set(left.keys) == topology.containerNames)
                }

                // The store as the crash left it: intact, and honest about what happened.
                let look = try FaultWorld.inspectStore(database)
                #expect(look.integrity == ["ok"])
                if point.afterRecord {
                    #expect(look.applied?.versionHash == topology.hash)
                    #expect(look.attempt == nil)
                } else {
                    #expect(look.applied == nil)
                    #expect(look.attempt?.versionHash == topology.hash)
                    #expect(look.attempt?.topologyID == topology.id)
                }

                // Restart with the same state directory: the master re-sends the request id on the new hello and
                // gets the stored verdict; nothing is applied again by itself.
                try world.startAgent(agentID)
                let rehello = try await world.waitForRecord(agentID, "hello of the restarted agent") {
                    $0["boot_id"]?.stringValue != firstBoot && $0["hello_at"] != .null
                }
                let boot = try #require(rehello["boot_id"]?.stringValue)
                let verdict = try ResultMessage(answer: try await submit.value)
                if point.afterRecord && verdict.status == 200 {
                    measure("agent_kill_recorded_verdict", "the stored 200 result (stored before the kill)")
                } else {
                    #expect(verdict.status == 500)
                    #expect(verdict.error?.code == .internal)
                    #expect(verdict.error?.message == "agent restarted while the request was running")
                    if point.afterRecord {
                        measure("agent_kill_recorded_verdict", "interrupted (killed before its result was stored)")
                    }
                }
                // The restarted agent had its chance to touch Docker: it answered the verdict above, and answers
                // state (its observer has listed Docker); it is given a few seconds more for anything it would start
                // in the background. Then the event log is brought up to date with a marker before it is read.
                try await Self.expectTruthfulState(world, agentID, topology, afterRecord: point.afterRecord, boot: boot)
                try await Task.sleep(for: .seconds(3))
                try await events.sync()
                #expect(try DockerProbe.containers(topology.id) == left, "no container changed after the restart")
                #expect(try DockerProbe.networks(topology.id) == leftNetworks)
                #expect(
                    events.events(sinceMillis: quietSince).isEmpty,
                    "after the kill: \(events.summary(sinceMillis: quietSince))"
                )

                // A re-apply converges, a teardown leaves nothing labelled.
                let again = try await world.submit(agentID, topology.applyRequest(id: requestID + "-again"))
                #expect(
                    try ResultMessage(answer: again).status == 200,
                    "\(JSONValue.object(again).jsonText.prefix(400))"
                )
                let after = try await world.state(agentID)
                #expect(after["applied_version_hash"]?.stringValue == topology.hash)
                #expect(after["attempt"] == .null)
                #expect(DriftLists(after).isEmpty, "\(DriftLists(after))")
                #expect(after["observed"]?["containers"]?.stringSet == topology.containerNames)
                let down = try await world.submit(agentID, topology.teardownRequest(id: requestID + "-down"))
                #expect(try ResultMessage(answer: down).status == 200)
                #expect(try DockerProbe.containers(topology.id).isEmpty)
                #expect(try DockerProbe.networks(topology.id).isEmpty)
            }
        }

        /// `state` over the wire and the restarted agent's heartbeat, against what Docker shows.
        static func expectTruthfulState(
            _ world: FaultWorld,
            _ agentID: String,
            _ topology: FaultTopology,
            afterRecord: Bool,
            boot: String
        ) async throws {
            let state = try await world.state(agentID)
            let all = Set(try DockerProbe.containers(topology.id).keys)
            #expect(state["observed"]?["containers"]?.stringSet == (try DockerProbe.runningNames(topology.id)))
            #expect(state["observed"]?["bridges"]?.stringSet == Set(try DockerProbe.networks(topology.id).keys))
            if afterRecord {
                #expect(state["applied_version_hash"]?.stringValue == topology.hash)
                #expect(state["attempt"] == .null)
                #expect(DriftLists(state).isEmpty, "\(DriftLists(state))")
            } else {
                // Nothing applied; the attempt says an apply of this hash did not complete; everything Docker runs
                // for the topology is unexpected.
                #expect(state["topology_id"] == .null)
                #expect(state["applied_version_hash"] == .null)
                #expect(state["attempt"]?["version_hash"]?.stringValue == topology.hash)
                #expect(state["attempt"]?["topology_id"]?.stringValue == topology.id)
                #expect(state["attempt"]?["error"]?.stringValue?.contains("did not complete") == true)
                #expect(DriftLists(state).unexpectedContainers == all)
            }
            let beat = try await world.waitForRecord(agentID, "a heartbeat of the restarted agent") {
                $0["heartbeat"]?["boot_id"]?.stringValue == boot
            }
            #expect(beat["applied_version_hash"] == state["applied_version_hash"])
            #expect(beat["drift"]?["unexpected_containers"]?.intValue == (afterRecord ? 0 : all.count))
        }
    }
}
