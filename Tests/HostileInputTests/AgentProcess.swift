import Foundation
import LiveTestSupport
import TestSupport
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// The real `decnet-agent run` executable in a child process, dialling a test master, with its standard error kept.
/// Docker is pointed at a socket that does not exist, so the child never touches the machine's Docker Engine.
final class AgentProcess: Sendable {
    let agentID: String
    let keys: CurveKeyPair
    let root: String
    let stateDirectory: String
    let keysDirectory: String
    private let process: Process
    private let stderr = Locked(Data())

    init(master: TestMaster) throws {
        agentID = "child-\(UUID().uuidString.prefix(8).lowercased())"
        keys = try CurveKeyPair.generate()
        try master.allow(agentID: agentID, keys: keys)
        root = NSTemporaryDirectory() + "hostile-child-\(UUID().uuidString)"
        stateDirectory = root + "/state"
        keysDirectory = root + "/keys"
        try FileManager.default.createDirectory(atPath: keysDirectory, withIntermediateDirectories: true)
        try ZMQCertificate(keyPair: keys, metadata: ["agent-id": agentID, "role": "agent"])
            .write(directory: keysDirectory, name: "agent")
        try ZMQCertificate(publicKey: master.keys.publicKey, metadata: ["role": "master"])
            .write(directory: keysDirectory, name: "master")

        process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessRunner.executable("decnet-agent"))
        process.arguments = [
            "run", "--agent-id", agentID, "--master-endpoint", master.commandEndpoint.value,
            "--heartbeat-endpoint", master.heartbeatEndpoint, "--master-key", keysDirectory + "/master.key",
            "--key", keysDirectory + "/agent.key_secret", "--state-dir", stateDirectory,
            "--templates-dir", root + "/templates", "--heartbeat-interval", "0.2", "--log-format", "json",
        ]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DECNET_") }
        environment["DOCKER_HOST"] = "unix://" + root + "/no-docker.sock"
        process.environment = environment
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        let stderr = self.stderr
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { stderr.withLock { $0.append(data) } }
        }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var output: String { String(decoding: stderr.value, as: UTF8.self) }

    /// SIGTERM, then waits (bounded) for a graceful exit; SIGKILL if it does not come. Returns the exit status.
    func stop(timeout: Duration = .seconds(15)) async -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}
