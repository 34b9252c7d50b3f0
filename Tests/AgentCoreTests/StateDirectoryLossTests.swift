import AgentCore
import AgentProtocol
import AgentStore
import DecnetJSON
import Foundation
import TestSupport
import Testing
import Topology

/// The state directory removed, restored and replaced under a running agent core (docs/reliability.md#state-folder):
/// reported in `state`, apply and teardown refused `state_unavailable` without touching the runtime, the store
/// re-opened and the lock re-taken once a folder is back.
@Suite(.serialized) struct StateDirectoryLossTests {
    final class Agent: Sendable {
        let directory: String
        let guardian: StateDirectoryGuard
        let executor: StoreExecutor
        let runtime = InMemoryRuntime()
        let operations: TopologyOperations

        init() throws {
            directory = NSTemporaryDirectory() + "state-loss-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            guardian = try StateDirectoryGuard(stateDirectory: directory)
            executor = StoreExecutor(store: try TopologyStore(path: directory + "/agent.db"))
            guardian.storeOpened()
            let settings = AgentSettings(
                agentID: "agent-1",
                agentVersion: "test",
                bootID: "boot-1",
                stateDirectory: directory,
                templatesRoot: "/nonexistent/templates"
            )
            operations = TopologyOperations(
                settings: settings,
                store: executor,
                runtime: runtime,
                stateGuard: guardian
            )
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }

        /// The applied id a fresh read-only connection finds on disk (nil when none, or no file).
        func appliedOnDisk() -> String? {
            guard let store = try? TopologyStore(path: directory + "/agent.db", access: .readOnly) else { return nil }
            defer { store.close() }
            return try? store.current()?.topologyID
        }
    }

    static func expectRefused(_ result: Result<JSONValue, AgentError>) {
        guard case .failure(let error) = result else {
            Issue.record("expected state_unavailable, got \(result)")
            return
        }
        #expect(error.code == .stateUnavailable && error.status == 503)
        #expect(error.message.contains("was removed under the agent"), "\(error.message)")
    }

    @Test func aRemovedFolderIsReportedRefusedAndTakenBackWhenRestored() async throws {
        let agent = try Agent()
        let a = Topologies.two
        let id = try #require(a["topology"]?["id"]?.stringValue)
        #expect((try? await agent.operations.apply(Topologies.apply(a), progress: noProgress).get()) != nil)
        #expect(await agent.operations.agentState().stateDirectoryError == nil)
        #expect(agent.appliedOnDisk() == id)

        try FileManager.default.removeItem(atPath: agent.directory)
        let state = await agent.operations.agentState()
        #expect(state.stateDirectoryError?.contains("was removed under the agent") == true, "\(state)")
        let calls = agent.runtime.calls.count
        Self.expectRefused(await agent.operations.apply(Topologies.apply(a), progress: noProgress))
        Self.expectRefused(await agent.operations.teardown(topologyID: id, progress: noProgress))
        #expect(agent.runtime.calls.count == calls, "the runtime was asked to change")
        #expect(!FileManager.default.fileExists(atPath: agent.directory), "something recreated the folder")

        // The folder is back (empty, as after `rm -rf` and `mkdir`): the next look re-opens and re-locks.
        try FileManager.default.createDirectory(atPath: agent.directory, withIntermediateDirectories: true)
        let back = await agent.operations.agentState()
        #expect(back.stateDirectoryError == nil, "\(back)")
        #expect(back.topologyID == nil)  // what was recorded went with the folder
        #expect(throws: StateDirectoryLock.Busy.self) { _ = try StateDirectoryLock(stateDirectory: agent.directory) }
        #expect((try? await agent.operations.apply(Topologies.apply(a), progress: noProgress).get()) != nil)
        #expect(agent.appliedOnDisk() == id, "the re-apply was not written to the folder on disk")
    }

    @Test func aDatabaseUnlinkedOrAFolderReplacedIsNoticed() async throws {
        let agent = try Agent()
        #expect(await agent.operations.agentState().stateDirectoryError == nil)
        // Replaced by a copy: another inode at the same path, the old one moved away.
        try FileManager.default.moveItem(atPath: agent.directory, toPath: agent.directory + ".old")
        defer { try? FileManager.default.removeItem(atPath: agent.directory + ".old") }
        try FileManager.default.copyItem(atPath: agent.directory + ".old", toPath: agent.directory)
        // The first look notices and takes the new folder at once (it is there), so no apply goes into the void.
        #expect(await agent.operations.agentState().stateDirectoryError == nil)
        #expect(throws: StateDirectoryLock.Busy.self) { _ = try StateDirectoryLock(stateDirectory: agent.directory) }
        #expect(
            (try? await agent.operations.apply(Topologies.apply(Topologies.two), progress: noProgress).get()) != nil
        )
        #expect(agent.appliedOnDisk() != nil)
    }

    @Test func aFolderTakenByAnotherAgentMeanwhileStaysRefused() async throws {
        let agent = try Agent()
        try FileManager.default.removeItem(atPath: agent.directory)
        _ = await agent.operations.agentState()
        // A `local teardown` on the same path gets there first and holds the lock.
        try FileManager.default.createDirectory(atPath: agent.directory, withIntermediateDirectories: true)
        let other = try StateDirectoryLock(stateDirectory: agent.directory)
        let state = await agent.operations.agentState()
        #expect(state.stateDirectoryError?.contains("cannot be used") == true, "\(state)")
        guard
            case .failure(let error) = await agent.operations.apply(
                Topologies.apply(Topologies.two),
                progress: noProgress
            )
        else {
            Issue.record("apply ran in a folder another agent holds")
            return
        }
        #expect(error.code == .stateUnavailable)
        withExtendedLifetime(other) {}
    }
}
