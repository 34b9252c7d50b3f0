import Foundation
import Logging
import TestSupport
import Testing
import ZeroMQ

@testable import AgentTransport

/// What the rotator does at start with the files a crash in the middle of a commit left
/// (docs/security.md#key-rotation); the crash itself is `interop/test_key_rotation.py`'s, with the real agent.
@Suite struct AgentKeyRotatorTests {
    /// A key folder as a commit cut between its two renames leaves it: `agent.key_secret` already the new pair,
    /// `agent.key` still the old public key, `agent.next.key` the new public key, no `agent.next.key_secret`.
    static func interruptedCommit() throws -> (TemporaryDirectory, old: CurveKeyPair, new: CurveKeyPair) {
        let folder = try TemporaryDirectory("rotator")
        let (old, new) = (try CurveKeyPair.generate(), try CurveKeyPair.generate())
        try ZMQCertificate(keyPair: old, metadata: ["role": "agent"]).write(directory: folder.path, name: "agent")
        try ZMQCertificate(keyPair: new, metadata: ["role": "agent"]).write(directory: folder.path, name: "agent.next")
        #expect(rename(folder.file("agent.next.key_secret"), folder.file("agent.key_secret")) == 0)
        return (folder, old, new)
    }

    static func publicKey(_ path: String) -> CurveKey? { (try? ZMQCertificate.load(path: path))?.publicKey }

    @Test func aStrayNextPublicFileOfTheKeyInUseIsRenamedOverTheOldOne() throws {
        let (folder, old, new) = try Self.interruptedCommit()
        defer { folder.remove() }
        #expect(Self.publicKey(folder.file("agent.key")) == old.publicKey)
        let logs = LogCapture()
        let rotator = AgentKeyRotator(
            secretPath: folder.file("agent.key_secret"),
            current: new,
            logger: logs.logger("rotator")
        )
        #expect(rotator.finishInterruptedCommit())
        #expect(Self.publicKey(folder.file("agent.key")) == new.publicKey)
        #expect(!FileManager.default.fileExists(atPath: folder.file("agent.next.key")))
        #expect(logs.entries.contains { $0.level == .notice && $0.message.hasPrefix("finished a key commit") })
        #expect(!rotator.finishInterruptedCommit(), "a second start has nothing to do")
    }

    @Test func nextFilesOfAnotherKeyOrWithTheirSecretAreLeftAlone() throws {
        let (folder, old, new) = try Self.interruptedCommit()
        defer { folder.remove() }
        // The agent's key is still the old one (the stray file is not its key): nothing is renamed.
        let stale = AgentKeyRotator(
            secretPath: folder.file("agent.key_secret"),
            current: old,
            logger: LogCapture().logger("rotator")
        )
        #expect(!stale.finishInterruptedCommit())
        #expect(Self.publicKey(folder.file("agent.next.key")) == new.publicKey)
        // A next pair that is whole (prepared, not committed) stays for the next `prepare`.
        try ZMQCertificate(keyPair: new, metadata: ["role": "agent"])
            .write(directory: folder.path, name: "agent.next", overwrite: true)
        let prepared = AgentKeyRotator(
            secretPath: folder.file("agent.key_secret"),
            current: new,
            logger: LogCapture().logger("rotator")
        )
        #expect(!prepared.finishInterruptedCommit())
        #expect(FileManager.default.fileExists(atPath: folder.file("agent.next.key_secret")))
        #expect(Self.publicKey(folder.file("agent.key")) == old.publicKey)
    }

    @Test func theTestFaultIsOffUnlessNamedAndAnUnknownNameIsRefused() throws {
        #expect(try AgentTestFault.armed(environment: [:]) == nil)
        #expect(try AgentTestFault.armed(environment: ["DECNET_TEST_FAULT": ""]) == nil)
        #expect(
            try AgentTestFault.armed(environment: ["DECNET_TEST_FAULT": "rotate-before-commit"]) == .rotateBeforeCommit
        )
        #expect(try AgentTestFault.armed(environment: ["DECNET_TEST_FAULT": "rotate-mid-commit"]) == .rotateMidCommit)
        #expect(throws: AgentTestFault.Unknown.self) {
            try AgentTestFault.armed(environment: ["DECNET_TEST_FAULT": "Rotate-Before-Commit"])
        }
        // Disarmed, or armed elsewhere: tripping a point returns.
        AgentTestFault.trip(.rotateBeforeCommit, armed: nil)
        AgentTestFault.trip(.rotateBeforeCommit, armed: .rotateMidCommit)
    }
}
