import DecnetJSON
import Foundation
import LiveTestSupport
import TestSupport
import Testing

@testable import CLISupport

/// `decnet-agent` as the Debian package runs it: one version for both binaries, `keygen` for the postinst,
/// `run --check-config` on the shipped config file, and `run` under systemd (`Type=notify`, watchdog, journal).
@Suite("decnet-agent as a packaged service", .serialized)
struct AgentServiceTests {
    static let agent = ProcessRunner.executable("decnet-agent")
    static let master = ProcessRunner.executable("decnet-master")

    static func mode(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    static func environment(_ extra: [String: String]) -> [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DECNET_") }
            .merging(extra) { _, new in new }
    }

    @Test func bothBinariesPrintTheOneVersion() throws {
        for binary in [Self.agent, Self.master] {
            let out = try ProcessRunner.run(binary, ["--version"])
            #expect(out.status == 0)
            #expect(out.stdoutText == DecnetVersion.current + "\n", "\(binary)")
        }
    }

    @Test func keygenWritesAnAgentPairAndNeverReplacesOne() throws {
        let directory = try TemporaryDirectory("agent-keygen")
        defer { directory.remove() }
        let keys = directory.file("etc/agent")
        let out = try ProcessRunner.run(Self.agent, ["keygen", "--dir", keys])
        #expect(out.status == 0, "\(out.stderr)")
        let publicKey = out.stdoutText.trimmingCharacters(in: .newlines)
        #expect(publicKey.utf8.count == 40)
        #expect(Self.mode(keys) == 0o700)
        #expect(Self.mode(keys + "/agent.key") == 0o644)
        #expect(Self.mode(keys + "/agent.key_secret") == 0o600)
        let secret = try String(contentsOfFile: keys + "/agent.key_secret", encoding: .utf8)
        #expect(secret.contains("public-key = \"\(publicKey)\""))
        #expect(secret.contains("role = \"agent\""))
        #expect(!secret.contains("agent-id"), "without --agent-id the master names it by its allow-list file")

        let again = try ProcessRunner.run(Self.agent, ["keygen", "--dir", keys])
        #expect(again.status == 1)
        #expect(again.stderr.contains("refusing to replace"))
        #expect(try String(contentsOfFile: keys + "/agent.key_secret", encoding: .utf8) == secret)

        let named = try ProcessRunner.run(
            Self.agent,
            ["keygen", "--dir", keys, "--name", "host-17", "--agent-id", "host-17"]
        )
        #expect(named.status == 0)
        #expect(try String(contentsOfFile: keys + "/host-17.key", encoding: .utf8).contains("agent-id = \"host-17\""))
        #expect(try ProcessRunner.run(Self.agent, ["keygen", "--dir", keys, "--name", ".hidden"]).status == 2)
        #expect(try ProcessRunner.run(Self.agent, ["keygen", "--dir", keys, "--agent-id", "a/b"]).status == 2)
    }

    /// The shipped `/etc/decnet/agent.json` leaves the agent id and the master's endpoints empty: `--check-config`
    /// (which the postinst runs before starting the service) says what is missing; filled in, it passes.
    @Test func theShippedConfigIsCheckedWithoutDialling() throws {
        let shippedPath = Fixtures.repositoryRoot + "/packaging/agent/agent.json"
        let shipped = try JSONParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: shippedPath))))
        let directory = try TemporaryDirectory("agent-check")
        defer { directory.remove() }
        let unfinished = try ProcessRunner.run(
            Self.agent,
            ["run", "--config", shippedPath, "--check-config"],
            environment: Self.environment([:])
        )
        #expect(unfinished.status == 2)
        #expect(unfinished.stderr.contains("missing --agent-id"), "\(unfinished.stderr)")

        let keygen = try ProcessRunner.run(Self.agent, ["keygen", "--dir", directory.file("keys")])
        #expect(keygen.status == 0)
        let masterKeygen = try ProcessRunner.run(
            Self.master,
            ["keygen", "--dir", directory.file("master"), "--name", "master", "--role", "master"]
        )
        #expect(masterKeygen.status == 0)
        guard case .object(var members) = shipped else {
            Issue.record("the shipped config is not an object")
            return
        }
        members["agent_id"] = "host-17"
        members["master_endpoint"] = "tcp://master.example:8771"
        members["heartbeat_endpoint"] = "tcp://master.example:8772"
        members["master_key"] = .string(JSONString(directory.file("master/master.key")))
        members["key"] = .string(JSONString(directory.file("keys/agent.key_secret")))
        members["state_dir"] = .string(JSONString(directory.file("state")))
        let config = directory.file("agent.json")
        try Data(PythonJSONEncoder().encode(.object(members))).write(to: URL(fileURLWithPath: config))
        let checked = try ProcessRunner.run(
            Self.agent,
            ["run", "--check-config"],
            environment: Self.environment(["DECNET_CONFIG": config])
        )
        #expect(checked.status == 0, "\(checked.stderr)")
        let printed = try JSONParser.parse([UInt8](checked.stdout))
        #expect(printed["agent_id"] == "host-17")
        #expect(printed["files_root"] == "/srv/decnet-agent/files")
        #expect(printed["heartbeat_interval"] == .float(10))
        #expect(printed["public_key"]?.stringValue == keygen.stdoutText.trimmingCharacters(in: .newlines))
        #expect(printed["master_public_key"]?.stringValue == masterKeygen.stdoutText.trimmingCharacters(in: .newlines))
        #expect(Self.mode(directory.file("state")) == 0o700)
        // A flag still wins over the file.
        let overridden = try ProcessRunner.run(
            Self.agent,
            ["run", "--config", config, "--check-config", "--agent-id", "host-18"],
            environment: Self.environment([:])
        )
        #expect(try JSONParser.parse([UInt8](overridden.stdout))["agent_id"] == "host-18")
    }

    /// `run` with `NOTIFY_SOCKET` and `WATCHDOG_USEC` set, and its standard error as the journal stream (as systemd
    /// starts it): READY=1 once set up, STATUS= lines, WATCHDOG=1, STOPPING=1, and journal lines without timestamps.
    @Test(arguments: [true, false])
    func runSpeaksTheNotifyProtocolAndWritesJournalLines(abstract: Bool) async throws {
        let directory = try TemporaryDirectory("agent-notify")
        defer { directory.remove() }
        let master = try await TestMaster()
        let pump = Task { await master.pump() }
        defer { pump.cancel() }
        let keys = directory.file("keys")
        #expect(try ProcessRunner.run(Self.agent, ["keygen", "--dir", keys]).status == 0)
        try master.writePublicKey(directory: keys)
        try master.allow(agentID: "host-17", publicKeyFile: keys + "/agent.key")
        let listener = try NotifyListener(abstract: abstract)
        // JOURNAL_STREAM names the very stream standard error is (device:inode), as systemd sets it.
        let script = #"JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$0" "$@""#
        let agent = try BackgroundProcess(
            executable: "/bin/sh",
            arguments: [
                "-c", script, Self.agent, "run", "--agent-id", "host-17", "--master-endpoint",
                master.commandEndpoint.value, "--heartbeat-endpoint", master.heartbeatEndpoint, "--master-key",
                keys + "/master.key", "--key", keys + "/agent.key_secret", "--state-dir", directory.file("state"),
            ],
            environment: Self.environment([
                "NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "1000000",
                "DOCKER_HOST": "unix://" + directory.file("no-docker.sock"),
            ])
        )
        let ready = await listener.wait(within: 30) { $0 == "READY=1" }
        #expect(ready != nil, "no READY=1: \(agent.stderr)")
        let first = try #require(listener.datagrams.first)
        // Set up before READY: the store is open, the sockets dial, Docker's error is known.
        #expect(first.hasPrefix("READY=1\nSTATUS="), "\(first)")
        #expect(first.contains("no topology applied"), "\(first)")
        #expect(first.contains("Docker: "), "\(first)")
        let connected = await listener.wait(within: 30) {
            $0.hasPrefix("STATUS=connected to \(master.commandEndpoint.value)")
        }
        #expect(connected != nil, "\(listener.datagrams)")
        _ = await eventually(within: 10) { listener.assignments.filter { $0 == "WATCHDOG=1" }.count >= 3 }
        #expect(listener.assignments.filter { $0 == "WATCHDOG=1" }.count >= 3)
        try await master.waitFor("the hello") { master.commands.value.contains { $0.message["type"] == "hello" } }

        agent.signal(SIGTERM)
        #expect(try await agent.exitStatus(seconds: 30) == 0, "\(agent.stderr)")
        #expect(listener.assignments.contains("STOPPING=1"))
        let lines = agent.stderr.split(separator: "\n").map(String.init)
        let started = try #require(lines.first { $0.contains("agent started") }, "\(agent.stderr)")
        #expect(started.hasPrefix("<6>info decnet.agent: agent started "), "\(started)")
        #expect(started.contains("agent_id=host-17"))
        #expect(lines.allSatisfy { $0.hasPrefix("<") }, "\(agent.stderr)")
        await master.shutdown()
    }

    @Test func journalLinesCarryPrioritiesAndStayOneLine() {
        #expect(
            JournalLogHandler.line(
                level: .warning,
                label: "decnet.agent",
                message: "lost\nREADY=1",
                metadata: ["b": "2", "a": "x\ry"]
            )
                == "<4>warning decnet.agent: lost\\nREADY=1 a=x\\ry b=2\n"
        )
        #expect(JournalLogHandler.priority(.trace) == 7 && JournalLogHandler.priority(.debug) == 7)
        #expect(JournalLogHandler.priority(.info) == 6 && JournalLogHandler.priority(.notice) == 5)
        #expect(JournalLogHandler.priority(.warning) == 4 && JournalLogHandler.priority(.error) == 3)
        #expect(JournalLogHandler.priority(.critical) == 2)
        #expect(!JournalLogHandler.standardErrorIsJournal(environment: nil))
        #expect(!JournalLogHandler.standardErrorIsJournal(environment: "garbage"))
        #expect(!JournalLogHandler.standardErrorIsJournal(environment: "1:1"))
    }
}
