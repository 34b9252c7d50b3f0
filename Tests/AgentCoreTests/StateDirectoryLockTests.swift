import AgentCore
import Foundation
import Testing

/// The state directory's `flock`, and its error lines, which must not change now that AgentCore links only
/// FoundationEssentials.
@Suite struct StateDirectoryLockTests {
    static func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "lock-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func secondHolderIsBusyUntilTheFirstGoes() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var first: StateDirectoryLock? = try StateDirectoryLock(stateDirectory: directory)
        #expect(first?.path == directory + "/agent.lock")
        let busy = try #require(throws: StateDirectoryLock.Busy.self) {
            try StateDirectoryLock(stateDirectory: directory)
        }
        #expect("\(busy)" == "another decnet-agent is using \(directory)")
        first = nil
        _ = try StateDirectoryLock(stateDirectory: directory)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/agent.lock")
        let mode = attributes[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func anUnopenableLockSaysWhyWithTheSystemsReason() throws {
        let directory = NSTemporaryDirectory() + "missing-\(UUID().uuidString)/state"
        let error = try #require(throws: StateDirectoryLock.Unopenable.self) {
            try StateDirectoryLock(stateDirectory: directory)
        }
        #expect(error.errno == ENOENT)
        #expect("\(error)" == "cannot open \(directory)/agent.lock: No such file or directory")
    }
}
