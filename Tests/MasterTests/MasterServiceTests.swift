import DecnetJSON
import Foundation
import LiveTestSupport
import Master
import TestSupport
import Testing

/// `decnet-master serve` as a systemd service runs it: `Type=notify` datagrams over `NOTIFY_SOCKET`, the watchdog,
/// journal-friendly text logs, and the JSON config file with a separate run directory (docs/install.md).
@Suite("decnet-master under systemd", .serialized)
struct MasterServiceTests {
    static func environment(_ extra: [String: String]) -> [String: String] {
        ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
    }

    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test(arguments: [false, true])
    func readyStatusWatchdogAndStoppingAreSent(abstract: Bool) async throws {
        let harness = try MasterHarness()
        defer { harness.directory.remove() }
        let listener = try NotifyListener(abstract: abstract)
        let serve = try BackgroundProcess(
            executable: BackgroundProcess.master,
            arguments: [
                "serve", "--dir", harness.directory.path, "--bind-host", "127.0.0.1", "--command-port", "0",
                "--heartbeat-port", "0", "--monitor-port", "0",
            ],
            environment: Self.environment(["NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "1000000"])
        )
        let ready = await listener.wait(within: 30) { $0 == "READY=1" }
        #expect(ready != nil, "no READY=1; stderr: \(serve.stderr)")
        // READY comes once the sockets are bound, with where they listen.
        #expect(listener.datagrams.first?.hasPrefix("READY=1\nSTATUS=serving: command tcp://127.0.0.1:") == true)
        #expect(FileManager.default.fileExists(atPath: harness.directory.file("control.ipc")))
        // The timer loop keeps the status and kicks the watchdog every half WATCHDOG_USEC.
        _ = await listener.wait(within: 10) { $0 == "STATUS=serving: 0 of 0 agents connected, 0 requests outstanding" }
        let started = ContinuousClock.now
        _ = await eventually(within: 10) { listener.assignments.filter { $0 == "WATCHDOG=1" }.count >= 4 }
        let kicks = listener.assignments.filter { $0 == "WATCHDOG=1" }.count
        #expect(kicks >= 4)
        #expect(ContinuousClock.now - started >= .milliseconds(1000), "kicked faster than every half interval")
        #expect(listener.statuses.contains("serving: 0 of 0 agents connected, 0 requests outstanding"))
        serve.signal(SIGTERM)
        #expect(try await serve.exitStatus(seconds: 20) == 0)
        #expect(listener.assignments.contains("STOPPING=1"))
        #expect(
            listener.datagrams.last(where: { $0.hasPrefix("STOPPING=1") })
                == "STOPPING=1\nSTATUS=stopping: closing sockets"
        )
    }

    @Test func aMasterThatCannotStartSaysSoAndNeverReady() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let listener = try NotifyListener()
        let serve = try BackgroundProcess(
            executable: BackgroundProcess.master,
            arguments: ["serve", "--dir", directory.path, "--command-port", "0"],
            environment: Self.environment(["NOTIFY_SOCKET": listener.address])
        )
        #expect(try await serve.exitStatus(seconds: 20) == 1)
        #expect(!listener.assignments.contains("READY=1"))
        #expect(listener.statuses.last?.hasPrefix("refusing to start:") == true, "\(listener.datagrams)")
    }

    @Test func textLogsToTheJournalHaveNoTimestampAndCarryTheirPriority() async throws {
        let harness = try MasterHarness()
        defer { harness.directory.remove() }
        // JOURNAL_STREAM names the very stream standard error is (device:inode), as systemd sets it.
        let script = """
            JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$0" "$@"
            """
        let serve = try BackgroundProcess(
            executable: "/bin/sh",
            arguments: [
                "-c", script, BackgroundProcess.master, "serve", "--dir", harness.directory.path, "--bind-host",
                "127.0.0.1", "--command-port", "0", "--heartbeat-port", "0", "--monitor-port", "0",
            ]
        )
        _ = await eventually(within: 30) { serve.stderr.contains("master serving") || !serve.isRunning }
        serve.signal(SIGTERM)
        #expect(try await serve.exitStatus(seconds: 20) == 0)
        let lines = serve.stderr.split(separator: "\n").map(String.init)
        let serving = try #require(lines.first { $0.contains("master serving") }, "\(serve.stderr)")
        #expect(serving.hasPrefix("<6>info decnet.master: master serving "), "\(serving)")
        #expect(serving.contains(" command=tcp://127.0.0.1:"))
        #expect(lines.allSatisfy { $0.hasPrefix("<") }, "\(lines)")

        // A JOURNAL_STREAM that is not standard error's (a child that redirected it) keeps the timestamps.
        let other = try BackgroundProcess(
            executable: BackgroundProcess.master,
            arguments: [
                "serve", "--dir", harness.directory.path, "--bind-host", "127.0.0.1", "--command-port", "0",
                "--heartbeat-port", "0", "--monitor-port", "0",
            ],
            environment: Self.environment(["JOURNAL_STREAM": "1:1"])
        )
        _ = await eventually(within: 30) { other.stderr.contains("master serving") || !other.isRunning }
        other.signal(SIGTERM)
        #expect(try await other.exitStatus(seconds: 20) == 0)
        let plain = try #require(other.stderr.split(separator: "\n").first { $0.contains("master serving") })
        #expect(plain.first?.isNumber == true, "\(String(plain))")
    }

    @Test func theConfigFileSetsWhatNoFlagSetsAndTheRunDirectoryHoldsTheControlSocket() async throws {
        let harness = try MasterHarness()
        defer { harness.directory.remove() }
        let run = try TemporaryDirectory("master-run")
        defer { run.remove() }
        let config = run.file("master.json")
        try Self.write(
            """
            {"dir": "\(harness.directory.path)", "run_dir": "\(run.path)", "bind_host": "127.0.0.1",
             "command_port": 0, "heartbeat_port": 0, "monitor_port": 0, "max_message_size": 1048576,
             "retry_interval": 2.5, "silent_after": 3, "log_format": "json", "log_level": "info"}
            """,
            to: config
        )
        // The flag wins over the file: the log format comes from the flag.
        let serve = try BackgroundProcess(["serve", "--config", config, "--log-format", "text"])
        _ = await eventually(within: 30) {
            FileManager.default.fileExists(atPath: run.file("control.ipc")) || !serve.isRunning
        }
        #expect(FileManager.default.fileExists(atPath: run.file("control.ipc")), "\(serve.stderr)")
        #expect(FileManager.default.fileExists(atPath: run.file("master.lock")))
        #expect(!FileManager.default.fileExists(atPath: harness.directory.file("control.ipc")))
        #expect(!serve.stderr.contains("{\""), "the flag's text format should win: \(serve.stderr)")
        // Operator commands find the control socket through --run-dir or DECNET_MASTER_RUN_DIR.
        let agents = try BackgroundProcess(["agents", "--run-dir", run.path, "--json"])
        #expect(try await agents.exitStatus() == 0, "\(agents.stderr)")
        #expect(try JSONParser.parse(agents.stdout)["agents"] == .array([]))
        let byEnvironment = try BackgroundProcess(
            executable: BackgroundProcess.master,
            arguments: ["agents", "--json"],
            environment: Self.environment(["DECNET_MASTER_RUN_DIR": run.path])
        )
        #expect(try await byEnvironment.exitStatus() == 0, "\(byEnvironment.stderr)")
        serve.signal(SIGTERM)
        #expect(try await serve.exitStatus(seconds: 20) == 0)
        #expect(!FileManager.default.fileExists(atPath: run.file("control.ipc")))

        // DECNET_MASTER_CONFIG names the file when --config does not.
        try Self.write(#"{"dir": "\#(harness.directory.path)", "command_port": 70000}"#, to: config)
        let badPort = try BackgroundProcess(
            executable: BackgroundProcess.master,
            arguments: ["serve"],
            environment: Self.environment(["DECNET_MASTER_CONFIG": config])
        )
        #expect(try await badPort.exitStatus() == 2)
        #expect(badPort.stderr.contains("command port 70000 must be 0 to 65535"), "\(badPort.stderr)")
        try Self.write(#"{"dir": "/x", "comand_port": 1}"#, to: config)
        let unknown = try BackgroundProcess(["serve", "--config", config])
        #expect(try await unknown.exitStatus() == 2)
        #expect(unknown.stderr.contains("unknown setting 'comand_port'"), "\(unknown.stderr)")
        try Self.write(#"{"command_port": "8771"}"#, to: config)
        let wrongType = try BackgroundProcess(["serve", "--config", config])
        #expect(try await wrongType.exitStatus() == 2)
        #expect(wrongType.stderr.contains("'command_port' must be an integer"), "\(wrongType.stderr)")
    }

    @Test func theShippedConfigFileIsAccepted() async throws {
        // packaging/etc/decnet/master.json, as installed, with the folders pointed at a temporary master.
        let shipped = try JSONParser.parse(
            [UInt8](
                try Data(contentsOf: URL(fileURLWithPath: Fixtures.repositoryRoot + "/packaging/master/master.json"))
            )
        )
        #expect(shipped["dir"] == "/etc/decnet/master")
        #expect(shipped["run_dir"] == "/var/lib/decnet-master")
        let harness = try MasterHarness()
        defer { harness.directory.remove() }
        guard case .object(var members) = shipped else {
            Issue.record("not an object")
            return
        }
        members["dir"] = .string(JSONString(harness.directory.path))
        members["run_dir"] = .string(JSONString(harness.directory.path))
        members["bind_host"] = "127.0.0.1"
        for port in ["command_port", "heartbeat_port", "monitor_port"] { members[port] = 0 }
        let config = harness.directory.file("master.json")
        try Data(PythonJSONEncoder().encode(.object(members))).write(to: URL(fileURLWithPath: config))
        let serve = try BackgroundProcess(["serve", "--config", config])
        _ = await eventually(within: 30) { serve.stderr.contains("master serving") || !serve.isRunning }
        #expect(serve.stderr.contains("master serving"), "\(serve.stderr)")
        serve.signal(SIGTERM)
        #expect(try await serve.exitStatus(seconds: 20) == 0)
    }
}
