import Foundation
import LiveTestSupport
import TestSupport
import Testing

/// `decnet-agent run` refuses an agent secret key that group or others can read, as the master refuses its own
/// (docs/reliability.md, "A hostile or broken host").
@Suite struct SecretKeyModeTests {
    @Test func aSecretKeyReadableByOthersIsRefusedWithTheChmodHint() async throws {
        let directory = try TemporaryDirectory("agent-key-mode")
        defer { directory.remove() }
        for (name, role) in [("master", "master"), ("host-17", "agent")] {
            let keygen = try ProcessRunner.run(
                ProcessRunner.executable("decnet-master"),
                ["keygen", "--dir", directory.path, "--name", name, "--role", role]
            )
            #expect(keygen.status == 0, "\(keygen.stderr)")
        }
        let secret = directory.file("host-17.key_secret")
        // What pyzmq writes.
        #expect(chmod(secret, 0o644) == 0)
        let agent = try BackgroundProcess(
            executable: ProcessRunner.executable("decnet-agent"),
            arguments: [
                "run", "--agent-id", "host-17", "--master-endpoint", "tcp://127.0.0.1:9",
                "--heartbeat-endpoint", "tcp://127.0.0.1:9", "--master-key", directory.file("master.key"),
                "--key", secret, "--state-dir", directory.file("state"),
            ],
            environment: ["DOCKER_HOST": "unix://" + directory.file("no-docker.sock"), "PATH": "/usr/bin:/bin"]
        )
        let status = try await agent.exitStatus(seconds: 20)
        #expect(status == 2)
        let lines = agent.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(agent.stderr)")
        #expect(lines.first?.hasSuffix("the secret key file has mode 0644; run: chmod 600 \(secret)") == true)
        #expect(agent.stdout.isEmpty)
    }
}
