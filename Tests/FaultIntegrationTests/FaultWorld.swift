import DecnetJSON
import Foundation
import Master
import TestSupport

/// One fault test's world: a temporary directory with a master directory (keys, allow-list), agents' keys and state
/// directories, a test service catalog and build contexts, free loopback ports that stay the same across master
/// restarts, and every child process and Docker object the test made, all removed by ``cleanUp()``.
final class FaultWorld: Sendable {
    let root: String
    /// Six hex digits naming this test's deckies and images.
    let token: String
    let masterDirectory: String
    let commandPort: Int
    let heartbeatPort: Int
    let monitorPort: Int
    let catalogPath: String
    let templatesPath: String

    private struct Children: Sendable {
        var master: ChildProcess?
        var agents: [String: ChildProcess] = [:]
        var others: [ChildProcess] = []
        var topologies: [String] = []
    }
    private let children = Locked(Children())

    static let agentBinary = ProcessRunner.executable("decnet-agent")
    static let masterBinary = ProcessRunner.executable("decnet-master")
    /// The size of the file in the `built` service's build context: sending and committing it keeps the agent in
    /// its images phase for a moment (a `RUN` step would need Docker's default bridge, which is not always there).
    static let buildContextBytes = 48 * 1024 * 1024

    /// Runs `body` in a fresh world and always cleans up, whatever `body` did.
    static func run(_ body: (FaultWorld) async throws -> Void) async throws {
        let world = try FaultWorld()
        do {
            try await body(world)
        } catch {
            await world.cleanUp(keepLogs: true)
            throw error
        }
        await world.cleanUp(keepLogs: false)
    }

    init() throws {
        root = try TemporaryDirectory("fault").path
        token = String(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(6))
        masterDirectory = root + "/master"
        let ports = try freeLoopbackPorts(3)
        (commandPort, heartbeatPort, monitorPort) = (ports[0], ports[1], ports[2])
        try KeyGenerator.generate(directory: masterDirectory, name: "master", role: .master)
        for folder in ["agents", "monitors"] {
            try FileManager.default.createDirectory(
                atPath: masterDirectory + "/" + folder,
                withIntermediateDirectories: true
            )
        }
        catalogPath = root + "/catalog.json"
        templatesPath = root + "/templates"
        try writeCatalog()
    }

    /// The test catalog: `idle` and `spare` (the busybox test image, sleeping) and `built` (built from a context of
    /// ``buildContextBytes``; its image carries this world's token so clean-up finds it).
    private func writeCatalog() throws {
        let catalog: JSONValue = [
            "catalog_version": 1,
            "services": [
                "idle": [
                    "image": JSONValue(DockerProbe.busyboxImage), "container_suffix": "idle",
                    "command": ["sleep", "infinity"],
                ],
                "spare": [
                    "image": JSONValue(DockerProbe.busyboxImage), "container_suffix": "spare",
                    "command": ["sleep", "infinity"],
                ],
                "built": ["build": ["template": "built"], "container_suffix": "built"],
            ],
        ]
        try Data(catalog.jsonText.utf8).write(to: URL(fileURLWithPath: catalogPath))
        try FileManager.default.createDirectory(atPath: templatesPath + "/built", withIntermediateDirectories: true)
        let dockerfile = """
            ARG BASE_IMAGE=unset
            FROM ${BASE_IMAGE}
            LABEL \(DockerProbe.testTokenLabel)=\(token)
            COPY blob /blob
            CMD ["sleep", "infinity"]

            """
        try Data(dockerfile.utf8).write(to: URL(fileURLWithPath: templatesPath + "/built/Dockerfile"))
        // An empty blob until a topology uses the service (most tests never build it).
        _ = FileManager.default.createFile(atPath: templatesPath + "/built/blob", contents: nil)
    }

    /// Fills the `built` context's blob (random bytes, so no layer is shared with anything else).
    private func fillBuildContext() throws {
        guard let random = FileHandle(forReadingAtPath: "/dev/urandom") else {
            throw FaultTestError("cannot open /dev/urandom")
        }
        defer { try? random.close() }
        let bytes = random.readData(ofLength: Self.buildContextBytes)
        try bytes.write(to: URL(fileURLWithPath: templatesPath + "/built/blob"))
    }

    var commandEndpoint: String { "tcp://127.0.0.1:\(commandPort)" }
    var heartbeatEndpoint: String { "tcp://127.0.0.1:\(heartbeatPort)" }
    var masterPublicKey: String { masterDirectory + "/master.key" }

    // MARK: master

    var master: ChildProcess? { children.value.master }

    /// Starts `decnet-master serve` on this world's ports and waits until its control channel answers.
    @discardableResult
    func startMaster(retryInterval: Double = 2, extraArguments: [String] = []) async throws -> ChildProcess {
        let process = try ChildProcess(
            name: "master",
            executable: Self.masterBinary,
            arguments: [
                "serve", "--dir", masterDirectory, "--bind-host", "127.0.0.1", "--command-port", "\(commandPort)",
                "--heartbeat-port", "\(heartbeatPort)", "--monitor-port", "\(monitorPort)",
                "--retry-interval", "\(retryInterval)",
            ] + extraArguments,
            logDirectory: root
        )
        children.withLock { $0.master = process }
        do {
            try await eventually("the master's control channel", within: 20, every: .milliseconds(100)) {
                guard process.isRunning else {
                    throw FaultTestError("decnet-master serve exited: \(process.stderrTail())")
                }
                return (try? await fleet(timeout: .seconds(1))) != nil
            }
        } catch {
            throw FaultTestError("\(error); master log: \(process.stderrTail())")
        }
        return process
    }

    /// `kill -9` of the master.
    func killMaster() async throws {
        try await master?.kill9()
    }

    // MARK: agents

    func agentDirectory(_ agentID: String) -> String { root + "/agents/" + agentID }
    func stateDirectory(_ agentID: String) -> String { agentDirectory(agentID) + "/state" }

    /// Makes the agent's key pair and puts its public key in the master's allow-list.
    func enrol(_ agentID: String, allowListDirectory: String? = nil) throws {
        let keys = agentDirectory(agentID) + "/keys"
        try KeyGenerator.generate(directory: keys, name: agentID, role: .agent)
        try FileManager.default.copyItem(
            atPath: "\(keys)/\(agentID).key",
            toPath: "\(allowListDirectory ?? masterDirectory + "/agents")/\(agentID).key"
        )
    }

    /// Starts `decnet-agent run` (enrolled before) against this world's master, or the endpoints given. `wrapper`
    /// is a command prefix (`nsenter ...`) that ends by exec-ing the agent, so the pid stays the agent's.
    @discardableResult
    func startAgent(
        _ agentID: String,
        stateDirectory: String? = nil,
        environment: [String: String] = [:],
        wrapper: [String] = [],
        commandEndpoint: String? = nil,
        heartbeatEndpoint: String? = nil,
        masterKey: String? = nil,
        heartbeatInterval: Double = 1
    ) throws -> ChildProcess {
        let arguments = [
            "run", "--agent-id", agentID, "--master-endpoint", commandEndpoint ?? self.commandEndpoint,
            "--heartbeat-endpoint", heartbeatEndpoint ?? self.heartbeatEndpoint,
            "--master-key", masterKey ?? masterPublicKey,
            "--key", "\(agentDirectory(agentID))/keys/\(agentID).key_secret",
            "--state-dir", stateDirectory ?? self.stateDirectory(agentID), "--catalog", catalogPath,
            "--templates-dir", templatesPath, "--base-image", DockerProbe.busyboxImage,
            "--heartbeat-interval", "\(heartbeatInterval)",
        ]
        let executable = wrapper.first ?? Self.agentBinary
        let process = try ChildProcess(
            name: "agent-\(agentID)",
            executable: executable,
            arguments: wrapper.isEmpty ? arguments : Array(wrapper.dropFirst()) + [Self.agentBinary] + arguments,
            environment: environment,
            logDirectory: root
        )
        children.withLock { $0.agents[agentID] = process }
        return process
    }

    func agent(_ agentID: String) -> ChildProcess? { children.value.agents[agentID] }

    /// Keeps a helper process (a namespace holder) to stop at clean-up.
    func adopt(_ process: ChildProcess) { children.withLock { $0.others.append(process) } }

    // MARK: topologies

    /// A new topology for this world, removed from Docker at clean-up.
    func topology(deckies: Int, perLAN: Int = 8, services: [String] = ["idle"]) -> FaultTopology {
        let topology = FaultTopology.make(token: token, deckies: deckies, perLAN: perLAN, services: services)
        children.withLock { $0.topologies.append(topology.id) }
        return topology
    }

    /// A topology like ``topology(deckies:perLAN:services:)`` whose first decky runs the `built` service.
    func topologyWithBuild(deckies: Int) throws -> FaultTopology {
        try fillBuildContext()
        return topology(deckies: deckies).withServices(decky: 0, ["built"])
    }

    /// Stops every process (agents first, so nothing re-creates what is being removed), removes the Docker objects
    /// of every topology and the images of this world's build contexts, then the directory (kept with its logs when
    /// the test failed, and its path printed).
    func cleanUp(keepLogs: Bool) async {
        let all = children.value
        for agent in all.agents.values { await agent.stop(within: 5) }
        await all.master?.stop(within: 5)
        for other in all.others { await other.stop(within: 5) }
        for id in all.topologies { DockerProbe.removeTopology(id) }
        DockerProbe.removeImages(token: token)
        if keepLogs {
            print("fault test logs kept in \(root)")
        } else {
            try? FileManager.default.removeItem(atPath: root)
        }
    }
}
