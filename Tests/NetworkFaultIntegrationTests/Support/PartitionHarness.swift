import DecnetJSON
import Foundation
import LiveTestSupport
import TestSupport

/// The real `decnet-master serve` in the lab's master namespace and the real `decnet-agent run` in its agent
/// namespace, with keys and state in a temporary folder. The operator commands (`agents`, `state`) run outside
/// the namespaces: they reach the master over its `ipc://` control socket, a file.
final class PartitionHarness: Sendable {
    static let agentID = "nat-agent"
    static let master = ProcessRunner.executable("decnet-master")
    static let agentBinary = ProcessRunner.executable("decnet-agent")
    /// The repository's `examples/templates` (the agent wants a templates folder; nothing is applied here).
    static let templates = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples/templates").path

    /// Shortened link timers for test time (wire protocol defaults: 10/30 s and no TTL, reconnect 0.2-1 s to 60 s).
    static let agentTuning = [
        "DECNET_ZMTP_HEARTBEAT_IVL_MS": "500", "DECNET_ZMTP_HEARTBEAT_TIMEOUT_MS": "2000",
        "DECNET_ZMTP_HEARTBEAT_TTL_MS": "3000", "DECNET_RECONNECT_IVL_MS": "500", "DECNET_RECONNECT_IVL_MAX_MS": "2000",
    ]

    let lab: NATLab
    let work: String
    var masterDir: String { work + "/master" }
    var agentLog: String { agent?.stderr ?? "" }
    let masterProcess: BackgroundProcess
    let agent: BackgroundProcess?

    private init(lab: NATLab, work: String, master: BackgroundProcess, agent: BackgroundProcess?) {
        self.lab = lab
        self.work = work
        self.masterProcess = master
        self.agent = agent
    }

    /// Makes keys, starts the master (waits until its control channel answers) and, when `startAgent`, the agent.
    static func start(lab: NATLab, startAgent: Bool = true) async throws -> PartitionHarness {
        let work = NSTemporaryDirectory() + "netfault-\(lab.tag)"
        let masterDir = work + "/master"
        try FileManager.default.createDirectory(atPath: work + "/keys", withIntermediateDirectories: true)
        try await Shell.check([master, "keygen", "--dir", masterDir, "--name", "master", "--role", "master"])
        try await Shell.check([
            master, "keygen", "--dir", work + "/keys", "--name", agentID, "--role", "agent", "--agent-id", agentID,
        ])
        for folder in ["agents", "monitors"] {
            try FileManager.default.createDirectory(atPath: masterDir + "/" + folder, withIntermediateDirectories: true)
        }
        try FileManager.default.copyItem(
            atPath: work + "/keys/\(agentID).key",
            toPath: masterDir + "/agents/\(agentID).key"
        )

        let masterProcess = try BackgroundProcess(
            command: lab.command(
                in: lab.master,
                [
                    master, "serve", "--dir", masterDir, "--bind-host", NATLab.masterAddress, "--log-format", "json",
                ]
            )
        )
        let answering = try await Shell.eventually(30) {
            guard masterProcess.isRunning else { throw ShellFailure(description: "the master exited") }
            return try await Shell.run([master, "agents", "--dir", masterDir, "--json"]).status == 0
        }
        guard answering else {
            await masterProcess.stop()
            throw ShellFailure(description: "the master did not start: \(masterProcess.stderr)")
        }
        var agent: BackgroundProcess?
        if startAgent {
            let arguments =
                ["env"] + agentTuning.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" } + [
                    agentBinary, "run", "--agent-id", agentID,
                    "--master-endpoint", "tcp://\(NATLab.masterAddress):8771",
                    "--heartbeat-endpoint", "tcp://\(NATLab.masterAddress):8772",
                    "--master-key", masterDir + "/master.key", "--key", work + "/keys/\(agentID).key_secret",
                    "--state-dir", work + "/state", "--templates-dir", templates, "--heartbeat-interval", "1",
                    "--log-format", "json",
                ]
            agent = try BackgroundProcess(command: lab.command(in: lab.agent, arguments))
        }
        return PartitionHarness(lab: lab, work: work, master: masterProcess, agent: agent)
    }

    /// The master's fleet snapshot (`decnet-master agents --json`).
    func fleet() async throws -> JSONValue {
        let output = try await Shell.check([Self.master, "agents", "--dir", masterDir, "--json"])
        return try JSONParser.parse(output.stdout)
    }

    /// This agent's record in the fleet snapshot, if the master knows it.
    func record() async throws -> JSONValue? {
        try await fleet()["agents"]?.arrayValue?.first { $0["agent_id"]?.stringValue == Self.agentID }
    }

    /// `counters.handshakes.command.disconnected`: command connections the master saw end.
    func commandDisconnections() async throws -> Int {
        try await fleet()["counters"]?["handshakes"]?["command"]?["disconnected"]?.intValue ?? -1
    }

    /// Starts `decnet-master state` for the agent (it waits up to `timeout` seconds for the agent).
    func stateRequest(timeout: Int = 60) throws -> BackgroundProcess {
        try BackgroundProcess(command: [
            Self.master, "state", "--dir", masterDir, "--agent", Self.agentID, "--timeout", String(timeout),
        ])
    }

    /// Lines of the agent's JSON log whose message is `message`.
    func agentLogLines(_ message: String) -> [JSONValue] {
        agentLog.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
            .filter { $0["message"]?.stringValue == message }
    }

    /// The peer addresses of the master's established connections on `port` (seen from the master namespace).
    func masterPeers(port: Int) async throws -> [String] {
        let output = try await lab.inside(lab.master, ["ss", "-tnH", "state", "established", "( sport = :\(port) )"])
        return output.stdout.split(separator: "\n").compactMap { line in
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let peer = columns.last, let colon = peer.lastIndex(of: ":") else { return nil }
            return String(peer[..<colon])
        }
    }

    /// Stops the agent and the master (SIGTERM, then SIGKILL) and removes the work folder (their output files go
    /// with this object).
    func stop() async {
        if let agent { await agent.stop() }
        await masterProcess.stop()
        try? FileManager.default.removeItem(atPath: work)
    }
}
