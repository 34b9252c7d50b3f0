import AgentProtocol
import AgentStore
import DecnetJSON
import Foundation
import TestSupport
import Testing

extension FaultTests {
    /// The agent's state directory on a small tmpfs in a private mount namespace, filled up right before the apply
    /// records its result, or made read-only (docs/reliability.md#disk-full).
    @Suite(
        "State directory full or read-only",
        .enabled(
            if: PrivateMount.unavailableReason == nil,
            "needs unshare -rm and tmpfs mounts (util-linux, user namespaces)"
        )
    )
    struct StateDirectoryFault {
        /// Starts the master and `agentID` with its state directory on a fresh 4 MiB tmpfs, and waits for its hello.
        static func agentOnTmpfs(
            _ world: FaultWorld,
            _ agentID: String
        ) async throws -> (mount: PrivateMount, agent: ChildProcess, hello: JSONObject) {
            try await world.startMaster()
            try world.enrol(agentID)
            let mount = try await PrivateMount.make(at: world.root + "/tmpfs", size: "4m", world: world)
            let agent = try world.startAgent(agentID, stateDirectory: mount.path + "/state", wrapper: mount.wrapper)
            let hello = try await world.waitForRecord(agentID, "hello") { $0["hello_at"] != .null }
            return (mount, agent, hello)
        }

        /// Submits `request` and fills the tmpfs at its first `networks` progress. The compose file is written
        /// before that phase, the applied row after the containers phase, and the store writes nothing in between:
        /// the disk fills up right before recording. Returns the result and the bytes the filler took.
        static func applyFillingTheDisk(
            _ world: FaultWorld,
            _ mount: PrivateMount,
            _ agentID: String,
            _ request: JSONValue
        ) async throws -> (result: JSONObject, filled: Int) {
            let filled = Locked<Result<Int, any Error>?>(nil)
            let result = try await world.submit(agentID, request) { message in
                guard FaultWorld.progress(message)?.phase == "networks", filled.value == nil else { return }
                filled.withLock { $0 = Result { try mount.fill() } }
            }
            let outcome = try #require(filled.value, "the tmpfs was filled during the apply")
            return (result, try outcome.get())
        }

        /// The answer of an apply whose applied row the full disk refused.
        static func expectRecordFailedOnAFullDisk(
            _ result: JSONObject,
            sourceLocation: SourceLocation = #_sourceLocation
        ) throws {
            let failure = try ResultMessage(answer: result)
            #expect(failure.status == 500, sourceLocation: sourceLocation)
            #expect(failure.error?.code == .internal, sourceLocation: sourceLocation)
            #expect(failure.error?.details["phase"] == "record", sourceLocation: sourceLocation)
            #expect(failure.error?.details["store"] == "disk_full", sourceLocation: sourceLocation)
        }

        /// v1 applied; v2 (one more container, a 300 KB blob) applied while the tmpfs is full: Docker runs v2, the
        /// store cannot take it, the result says `internal`/`record`, and state keeps naming v1. Once space is back
        /// a re-apply of v2 succeeds.
        @Test func diskFullWhileRecording() async throws {
            try await FaultWorld.run { world in
                let agentID = "disk-full"
                let (mount, _, _) = try await Self.agentOnTmpfs(world, agentID)
                let v1 = world.topology(deckies: 2)
                let first = try await world.submit(agentID, v1.applyRequest(id: "v1"))
                try #require(
                    try ResultMessage(answer: first).status == 200,
                    "\(JSONValue.object(first).jsonText.prefix(300))"
                )
                let v2 = v1.withServices(decky: 0, ["idle", "spare"]).padded(300_000)
                let events = try DockerEventLog.start(v1.id, world: world)
                let spare = "\(v2.deckies[0].name)-spare"

                let database = mount.outside("state/" + TopologyStore.fileName)
                let request = v2.applyRequest(id: "v2")
                let (result, filled) = try await Self.applyFillingTheDisk(world, mount, agentID, request)
                let failedAt = unixMillis()
                measure("disk_full_filler_bytes", filled)
                measure("disk_full_result", JSONValue.object(result).jsonText.prefix(400))
                try Self.expectRecordFailedOnAFullDisk(result)

                // Never reported as applied: state and heartbeat keep v1; the drift shows what runs beyond it.
                let state = try await world.state(agentID)
                #expect(state["applied_version_hash"]?.stringValue == v1.hash)
                #expect(state["attempt"]?["version_hash"]?.stringValue == v2.hash)
                #expect(DriftLists(state).unexpectedContainers == [spare])
                let beat = try await world.waitForRecord(agentID, "a heartbeat after the failure") {
                    ($0["heartbeat"]?["received_at"]?.integerValue?.int64Value ?? 0) > failedAt
                }
                #expect(beat["applied_version_hash"]?.stringValue == v1.hash)
                let look = try world.inspectStoreCopy(database)
                #expect(look.integrity == ["ok"])
                #expect(look.applied?.versionHash == v1.hash)

                try mount.free()
                // The failed request's own result could not be stored either: the agent keeps it in memory, so a
                // retry gets the same answer, and nothing runs again.
                let retry = try? await world.submit(agentID, v2.applyRequest(id: "v2"), timeout: 10)
                measure(
                    "disk_full_retry_of_failed_id",
                    retry.map { "result \(JSONValue.object($0).jsonText.prefix(200))" } ?? "no result within 10 s"
                )
                #expect(retry.map { JSONValue.object($0) } == JSONValue.object(result), "the retry's answer differs")
                #expect(events.events(sinceMillis: failedAt).isEmpty, "\(events.summary(sinceMillis: failedAt))")

                let again = try await world.submit(agentID, v2.applyRequest(id: "v2-again"))
                #expect(
                    try ResultMessage(answer: again).status == 200,
                    "\(JSONValue.object(again).jsonText.prefix(300))"
                )
                let after = try await world.state(agentID)
                #expect(after["applied_version_hash"]?.stringValue == v2.hash)
                #expect(after["attempt"] == .null)
                #expect(DriftLists(after).isEmpty, "\(DriftLists(after))")
                let down = try await world.submit(agentID, v2.teardownRequest(id: "down"))
                #expect(try ResultMessage(answer: down).status == 200)
                #expect(try DockerProbe.containers(v2.id).isEmpty)
            }
        }

        /// A first apply (nothing applied before) whose record cannot be written: docs/deviations.md#failed-first-apply
        /// wants a failed first apply to leave nothing, so the agent removes what it created; the result says
        /// `internal`/`record` and a retry of the id gets the same answer from memory. Once space is back a new apply
        /// succeeds.
        @Test func diskFullWhileRecordingAFirstApply() async throws {
            try await FaultWorld.run { world in
                let agentID = "disk-full-first"
                let (mount, _, _) = try await Self.agentOnTmpfs(world, agentID)
                let topology = world.topology(deckies: 2).padded(300_000)

                let request = topology.applyRequest(id: "first")
                let (result, _) = try await Self.applyFillingTheDisk(world, mount, agentID, request)
                measure("disk_full_first_apply_result", JSONValue.object(result).jsonText.prefix(400))
                try Self.expectRecordFailedOnAFullDisk(result)
                // Nothing of it is left in Docker, and nothing is applied.
                #expect(try DockerProbe.containers(topology.id).isEmpty)
                #expect(try DockerProbe.networks(topology.id).isEmpty)
                let state = try await world.state(agentID)
                #expect(state["applied_version_hash"] == .null && state["topology_id"] == .null)
                #expect(state["attempt"]?["version_hash"]?.stringValue == topology.hash, "\(state.jsonText)")

                let retry = try await world.submit(agentID, topology.applyRequest(id: "first"), timeout: 10)
                #expect(JSONValue.object(retry) == JSONValue.object(result), "the retry's answer differs")
                #expect(try DockerProbe.containers(topology.id).isEmpty, "the retry ran nothing")

                try mount.free()
                let again = try await world.submit(agentID, topology.applyRequest(id: "again"))
                #expect(
                    try ResultMessage(answer: again).status == 200,
                    "\(JSONValue.object(again).jsonText.prefix(300))"
                )
                let after = try await world.state(agentID)
                #expect(after["applied_version_hash"]?.stringValue == topology.hash)
                #expect(after["attempt"] == .null)
                let down = try await world.submit(agentID, topology.teardownRequest(id: "down"))
                #expect(try ResultMessage(answer: down).status == 200)
                #expect(try DockerProbe.containers(topology.id).isEmpty)
            }
        }

        /// The kernel will not make a file system read-only while the agent holds its database open for writing, so
        /// a read-only state directory can only meet an agent at start: it refuses to start, with one clear line,
        /// and touches nothing; made writable again, it starts and reports the topology it had.
        @Test func readOnlyStateDirectory() async throws {
            try await FaultWorld.run { world in
                let agentID = "read-only"
                let (mount, agent, hello) = try await Self.agentOnTmpfs(world, agentID)
                let stateDirectory = mount.path + "/state"
                let firstBoot = try #require(hello["boot_id"]?.stringValue)
                let topology = world.topology(deckies: 2)
                let applied = try await world.submit(agentID, topology.applyRequest(id: "before"))
                try #require(try ResultMessage(answer: applied).status == 200)
                let ids = try DockerProbe.containers(topology.id).mapValues(\.id)

                let busy = try mount.remount(readOnly: true)
                measure("read_only_remount_while_running", "status \(busy.status): \(busy.message.prefix(120))")
                #expect(busy.status != 0, "remounting read-only under the running agent is refused")

                #expect(await agent.stop() == 0)
                try #require(try mount.remount(readOnly: true).status == 0)
                let refused = try world.startAgent(agentID, stateDirectory: stateDirectory, wrapper: mount.wrapper)
                let status = try await refused.exitStatus(within: 20)
                measure("read_only_start", "exit \(status): \(refused.stderrTail(200))")
                #expect(status != 0)
                #expect(refused.stderr.contains("not writable"))
                #expect(try DockerProbe.containers(topology.id).mapValues(\.id) == ids)

                try #require(try mount.remount(readOnly: false).status == 0)
                try world.startAgent(agentID, stateDirectory: stateDirectory, wrapper: mount.wrapper)
                let record = try await world.waitForRecord(agentID, "hello after the directory is writable again") {
                    $0["boot_id"]?.stringValue != firstBoot && $0["hello_at"] != .null
                }
                #expect(record["applied_version_hash"]?.stringValue == topology.hash)
                #expect(record["drift"]?["unexpected_containers"] == 0)
                let state = try await world.state(agentID)
                #expect(DriftLists(state).isEmpty, "\(DriftLists(state))")
                let down = try await world.submit(agentID, topology.teardownRequest(id: "down"))
                #expect(try ResultMessage(answer: down).status == 200)
            }
        }
    }
}
