import AgentCore
import AgentProtocol
import AgentStore
import DecnetJSON
import Foundation
import Synchronization
import TestSupport
import Testing
import Topology

@Suite("Topology operations against the in-memory runtime")
struct TopologyOperationsTests {
    @Test func freshAgentStateIsIdle() async throws {
        let h = try Harness()
        #expect(await h.operations.agentState() == .idle)
    }

    /// One state object in three forms, made once per change: the value hello and heartbeats embed, the bytes the
    /// `state` result sends, and the typed ``AgentState``.
    @Test func theStateFormsAgree() async throws {
        let h = try Harness()
        _ = try await h.operations.apply(Topologies.apply(Topologies.two), progress: noProgress).get()
        let typed = await h.operations.agentState()
        #expect(typed.topologyID == "5d81934e-4a18-580f-bd50-6df4ca24a41a")
        #expect(await h.operations.state() == typed.jsonValue)
        let encoded = await h.operations.encodedState()
        #expect(encoded == typed.encoded)
        #expect(try AgentState(JSONParser.parse(encoded)) == typed)
    }

    @Test func lifecycleApplyReapplyConflictTeardown() async throws {
        let h = try Harness()
        let a = Topologies.two
        let hashA = CanonicalHash.hash(a)
        // apply A
        let first = await h.operations.apply(Topologies.apply(a), progress: noProgress)
        #expect(try first.get() == ["status": "applied", "version_hash": .string(JSONString(hashA))])
        var state = await h.operations.agentState()
        #expect(state.topologyID == "5d81934e-4a18-580f-bd50-6df4ca24a41a")
        #expect(state.appliedVersionHash == hashA)
        #expect(state.appliedAt == 1_776_749_115)
        #expect(state.observed.bridges == ["decnet_t_5d81934e_lan-00", "decnet_t_5d81934e_lan-01"])
        #expect(state.drift == AgentState.Drift())
        let composeFile = h.directory + "/topologies/decnet-topology-5d81934e-compose.yml"
        #expect(FileManager.default.fileExists(atPath: composeFile))

        // re-apply A unchanged: nothing recreated
        #expect((try? await h.operations.apply(Topologies.apply(a), progress: noProgress).get()) != nil)

        // apply A' (one decky changed): same id, new hash
        let a2 = Topologies.withServices(a, decky: 0, ["ssh", "http"])
        #expect((try? await h.operations.apply(Topologies.apply(a2), progress: noProgress).get()) != nil)
        state = await h.operations.agentState()
        #expect(state.appliedVersionHash == CanonicalHash.hash(a2))

        // apply B: conflict, nothing touched
        let b = Topologies.renamed(a, id: "b0000000-0000-0000-0000-000000000000")
        let callsBefore = h.runtime.calls.count
        guard case .failure(let conflict) = await h.operations.apply(Topologies.apply(b), progress: noProgress) else {
            Issue.record("B applied over A")
            return
        }
        #expect(conflict.code == .conflict)
        #expect(conflict.status == 409)
        #expect(conflict.details["applied_topology_id"] == "5d81934e-4a18-580f-bd50-6df4ca24a41a")
        #expect(h.runtime.calls.count == callsBefore)

        // teardown B: OK, nothing removed, A still applied
        let tb = try await h.operations.teardown(
            topologyID: "b0000000-0000-0000-0000-000000000000",
            progress: noProgress
        ).get()
        #expect(tb["removed"] == ["containers": [], "bridges": []])
        #expect(await h.operations.agentState().topologyID == "5d81934e-4a18-580f-bd50-6df4ca24a41a")

        // teardown A: everything removed, idle, file gone
        let ta = try await h.operations.teardown(
            topologyID: "5d81934e-4a18-580f-bd50-6df4ca24a41a",
            progress: noProgress
        ).get()
        #expect(ta["status"] == "torn_down")
        #expect(ta["removed"]?["bridges"] == ["decnet_t_5d81934e_lan-00", "decnet_t_5d81934e_lan-01"])
        #expect((ta["removed"]?["containers"]?.arrayValue?.count ?? 0) >= 4)
        #expect(!FileManager.default.fileExists(atPath: composeFile))
        state = await h.operations.agentState()
        #expect(state.topologyID == nil)
        #expect(state.observed == .objects(bridges: [], containers: []))
        // and again: still OK
        #expect(
            (try? await h.operations.teardown(topologyID: "5d81934e-4a18-580f-bd50-6df4ca24a41a", progress: noProgress)
                .get()) != nil
        )
    }

    @Test func changingOneDeckyRecreatesOnlyItsContainers() async throws {
        let h = try Harness()
        let a = Topologies.two
        _ = try await h.operations.apply(Topologies.apply(a), progress: noProgress).get()
        let before = h.runtime.update { $0.containers }
        let a2 = Topologies.withServices(a, decky: 1, ["ssh", "ftp"])
        _ = try await h.operations.apply(Topologies.apply(a2), progress: noProgress).get()
        let after = h.runtime.update { $0.containers }
        #expect(after["decky-002-ftp"] != nil)
        #expect(after["decnet_t_5d81934e_decky-001"]?.generation == before["decnet_t_5d81934e_decky-001"]?.generation)
        #expect(after["decnet_t_5d81934e_decky-002"]?.generation != before["decnet_t_5d81934e_decky-002"]?.generation)
    }

    @Test(arguments: ["0000", "upper"])
    func hashMismatchTouchesNothing(_ variant: String) async throws {
        let h = try Harness()
        let t = Topologies.two
        let sent = variant == "upper" ? CanonicalHash.hash(t).uppercased() : String(repeating: "0", count: 64)
        guard case .failure(let e) = await h.operations.apply(Topologies.apply(t, hash: sent), progress: noProgress)
        else {
            Issue.record("applied with a wrong hash")
            return
        }
        #expect(e.code == .hashMismatch)
        #expect(e.details["expected"] == .string(JSONString(sent)))
        #expect(e.details["actual"] == .string(JSONString(CanonicalHash.hash(t))))
        #expect(h.runtime.calls.isEmpty)
        let state = await h.operations.agentState()
        #expect(state.topologyID == nil)
        #expect(state.attempt?.error.contains("hash_mismatch") == true)
    }

    @Test func invalidTopologyGivesIssuesAndTouchesNothing() async throws {
        let h = try Harness()
        let empty: JSONValue = [
            "topology": ["id": "top-1", "name": "n", "mode": "agent"], "lans": [], "deckies": [], "edges": [],
        ]
        guard case .failure(let e) = await h.operations.apply(Topologies.apply(empty), progress: noProgress) else {
            Issue.record("applied an empty topology")
            return
        }
        #expect(e.code == .invalidTopology)
        #expect(e.message.contains("[DMZ_MISSING]"))
        #expect(e.details["issues"]?.arrayValue?.first?["code"] == "DMZ_MISSING")
        #expect(h.runtime.calls.isEmpty)
    }

    @Test func unsafeNamesAreRefusedBeforeDocker() async throws {
        let h = try Harness()
        let t = Topologies.renamed(Topologies.two, id: "../../etc/x")
        guard case .failure(let e) = await h.operations.apply(Topologies.apply(t), progress: noProgress) else {
            Issue.record("applied a topology whose id escapes paths")
            return
        }
        #expect(e.code == .invalidTopology)
        #expect(h.runtime.calls.isEmpty)
    }

    @Test func supersedeTearsTheOldTopologyDownFirst() async throws {
        let h = try Harness()
        _ = try await h.operations.apply(Topologies.apply(Topologies.two), progress: noProgress).get()
        let b = Topologies.renamed(Topologies.two, id: "b1234567-0000-0000-0000-000000000000")
        _ = try await h.operations.apply(Topologies.apply(b, supersede: true), progress: noProgress).get()
        let state = await h.operations.agentState()
        #expect(state.topologyID == "b1234567-0000-0000-0000-000000000000")
        #expect(h.runtime.calls.contains("teardown 5d81934e-4a18-580f-bd50-6df4ca24a41a"))
        let observed = await h.runtime.observe(topologyID: "5d81934e-4a18-580f-bd50-6df4ca24a41a")
        #expect(observed.containers.isEmpty && observed.bridges.isEmpty)
    }

    @Test func boundHostPortIsAPortConflict() async throws {
        let h = try Harness()
        h.boundPorts.withLock { $0 = [HostPort(22, .tcp)] }
        guard case .failure(let e) = await h.operations.apply(Topologies.apply(Topologies.two), progress: noProgress)
        else {
            Issue.record("applied over a bound port")
            return
        }
        #expect(e.code == .portConflict)
        #expect(e.details["ports"]?.arrayValue?.first?["port"] == 22)
        #expect(!h.runtime.calls.contains { $0.hasPrefix("materialise") })
    }

    @Test func reapplyDoesNotConflictWithItsOwnPorts() async throws {
        let h = try Harness()
        _ = try await h.operations.apply(Topologies.apply(Topologies.two), progress: noProgress).get()
        h.boundPorts.withLock { $0 = [HostPort(22, .tcp)] }  // held by our own gateway now
        #expect((try? await h.operations.apply(Topologies.apply(Topologies.two), progress: noProgress).get()) != nil)
    }

    @Test func failedFirstApplyLeavesNothingAndIsVisible() async throws {
        let h = try Harness()
        h.runtime.update { $0.failPhase = "containers" }
        guard case .failure(let e) = await h.operations.apply(Topologies.apply(Topologies.two), progress: noProgress)
        else {
            Issue.record("failure not reported")
            return
        }
        #expect(e.code == .runtimeError)
        #expect(e.details["phase"] == "containers")
        #expect(e.details["docker"] == "oci error")
        let state = await h.operations.agentState()
        #expect(state.topologyID == nil)
        #expect(state.appliedVersionHash == nil)
        #expect(state.attempt?.topologyID == "5d81934e-4a18-580f-bd50-6df4ca24a41a")
        #expect(state.attempt?.error.contains("runtime_error") == true)
        #expect(h.runtime.update { $0.containers.isEmpty && $0.bridges.isEmpty })
        // A later successful apply clears the attempt.
        h.runtime.update { $0.failPhase = nil }
        _ = try await h.operations.apply(Topologies.apply(Topologies.two), progress: noProgress).get()
        #expect(await h.operations.agentState().attempt == nil)
    }

    @Test func failedReapplyKeepsTheOldHashAndRecordsTheError() async throws {
        let h = try Harness()
        let a = Topologies.two
        _ = try await h.operations.apply(Topologies.apply(a), progress: noProgress).get()
        h.runtime.update { $0.failPhase = "images" }
        let a2 = Topologies.withServices(a, decky: 0, ["ssh", "http"])
        guard case .failure = await h.operations.apply(Topologies.apply(a2), progress: noProgress) else {
            Issue.record("failure not reported")
            return
        }
        let state = await h.operations.agentState()
        #expect(state.appliedVersionHash == CanonicalHash.hash(a))
        #expect(state.lastError?.isEmpty == false)
        #expect(state.attempt?.versionHash == CanonicalHash.hash(a2))
        #expect(!h.runtime.update { $0.containers.isEmpty })  // what runs is left
    }

    @Test func dockerUnavailableIsItsOwnErrorAndStateStillAnswers() async throws {
        let h = try Harness()
        h.runtime.update { $0.unavailable = true }
        guard case .failure(let e) = await h.operations.apply(Topologies.apply(Topologies.two), progress: noProgress)
        else {
            Issue.record("applied without Docker")
            return
        }
        #expect(e.code == .dockerUnavailable)
        #expect(e.status == 503)
        guard case .failure(let t) = await h.operations.teardown(topologyID: "x", progress: noProgress) else {
            Issue.record("teardown without Docker")
            return
        }
        #expect(t.code == .dockerUnavailable)
        let state = await h.operations.agentState()
        #expect(state.observed.error?.contains("Docker") == true)
        #expect(state.drift == nil)
    }

    @Test func teardownWorksWithAWipedStore() async throws {
        let h = try Harness()
        _ = try await h.operations.apply(Topologies.apply(Topologies.two), progress: noProgress).get()
        _ = try h.store.clear(topologyID: "5d81934e-4a18-580f-bd50-6df4ca24a41a")
        let state = await h.operations.agentState()
        #expect(state.topologyID == nil)
        let r = try await h.operations.teardown(
            topologyID: "5d81934e-4a18-580f-bd50-6df4ca24a41a",
            progress: noProgress
        ).get()
        #expect(r["removed"]?["bridges"]?.arrayValue?.count == 2)
        #expect(h.runtime.update { $0.containers.isEmpty && $0.bridges.isEmpty })
    }

    @Test func driftReportsStoppedMissingAndUnexpected() async throws {
        let h = try Harness()
        _ = try await h.operations.apply(Topologies.apply(Topologies.two), progress: noProgress).get()
        h.runtime.update { s in
            s.containers["decky-001-ssh"]?.running = false
            s.containers["decnet_t_5d81934e_decky-002"] = nil
            s.bridges["decnet_t_5d81934e_lan-01"] = nil
            s.containers["intruder"] = InMemoryRuntime.Container(
                name: "intruder",
                topologyID: "5d81934e-4a18-580f-bd50-6df4ca24a41a",
                running: true,
                spec: s.containers["decky-001-ssh"]!.spec,
                generation: 0
            )
        }
        let drift = await h.operations.agentState().drift
        #expect(drift?.stoppedContainers == ["decky-001-ssh"])
        #expect(drift?.missingContainers == ["decnet_t_5d81934e_decky-002"])
        #expect(drift?.missingBridges == ["decnet_t_5d81934e_lan-01"])
        #expect(drift?.unexpectedContainers == ["intruder"])
    }

    @Test func progressCoversThePhasesInOrder() async throws {
        let h = try Harness()
        let phases = Locked<[String]>([])
        _ = try await h.operations.apply(Topologies.apply(Topologies.two)) { phase, _, _, _ in
            phases.withLock { if $0.last != phase.rawValue { $0.append(phase.rawValue) } }
        }.get()
        #expect(phases.withLock { $0 } == ["verify", "validate", "preflight", "networks", "containers", "record"])
    }
}
