import AgentApplication
import AgentCore
import AgentProtocol
import AgentStore
import AgentTransport
import ArgumentParser
import CLISupport
import DecnetJSON
import DockerEngine
import DockerRuntime
import Logging
import SystemFiles
import Topology

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `decnet-agent local`: the agent's own apply, teardown and state without a master, for operators and checks.
struct LocalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local",
        abstract: "Apply, tear down or inspect a topology on this host's Docker Engine without a master.",
        discussion: """
            The same code path as a master's request: the hash is computed locally, then validate, preflight, \
            materialise and record. Prints the result body as JSON (exit 0), or \
            {"status": N, "error": {"code", "message", "details"}} with the wire protocol's codes (exit 1).
            """,
        subcommands: [LocalApply.self, LocalTeardown.self, LocalState.self]
    )
}

struct StateDirOption: ParsableArguments {
    @Option(help: "State directory (agent.db, compose files).")
    var stateDir: String = DaemonOptions.defaultStateDirectory
    @Option(help: "The only folder `files` knobs may mount from (or DECNET_FILES_ROOT).")
    var filesRoot: String?

    /// The flag, else `DECNET_FILES_ROOT`, else the default.
    var resolvedFilesRoot: String {
        absolutePath(
            filesRoot ?? ProcessInfo.processInfo.environment["DECNET_FILES_ROOT"] ?? FilesConfinement.defaultRoot
        )
    }
}

/// Build contexts are resolved by Docker and by `docker compose` relative to nothing the agent controls: make them
/// absolute.
func absolutePath(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}

/// The folder holding `path` (absolute).
func folder(of path: String) -> String {
    let parent = path.split(separator: "/").dropLast().joined(separator: "/")
    return "/" + parent
}

/// What the local commands share: the agent's core parts (store, operations, lock) over the Docker runtime.
struct LocalAgent {
    let core: AgentCoreParts
    let client: DockerClient

    var operations: TopologyOperations { core.operations }

    static func open(
        stateDir: String,
        catalog: ServiceCatalog,
        templatesDir: String,
        baseImage: String,
        exclusive: Bool,
        filesRoot: String = FilesConfinement.defaultRoot
    ) -> LocalAgent {
        // Retries and what a best-effort step could not do, as text on standard error beside the progress lines;
        // standard output carries only the result.
        JSONLogHandler.bootstrap(format: "text")
        var logger = Logger(label: "decnet.agent")
        logger[metadataKey: "agent_id"] = "local"
        do {
            try FileManager.default.createDirectory(
                atPath: stateDir,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
            let client = DockerClient(configuration: try .fromEnvironment())
            let settings = AgentSettings(
                agentID: "local",
                agentVersion: AgentVersion.current,
                bootID: UUID().uuidString.lowercased(),
                stateDirectory: stateDir,
                catalog: catalog,
                templatesRoot: absolutePath(templatesDir),
                baseImage: baseImage,
                filesRoot: filesRoot,
                protectedPaths: [client.configuration.socketPath]
            )
            let runtime = DockerTopologyRuntime(
                client: client,
                configuration: .init(stateDirectory: stateDir),
                logger: logger
            )
            let core = try AgentCoreParts.open(
                settings: settings,
                runtime: runtime,
                locking: exclusive ? .exclusive : .none,
                logger: logger
            )
            return LocalAgent(core: core, client: client)
        } catch {
            OperatorIO.fail("state directory \(stateDir): \(FileErrorText.reason(error))")
        }
    }

    func finish(_ outcome: Result<JSONValue, AgentError>) async throws {
        try? await client.shutdown()
        core.close()
        switch outcome {
        case .success(let body):
            Output.json(body)
        case .failure(let error):
            Output.json(["status": .integer(JSONInteger(error.status)), "error": error.jsonValue])
            throw ExitCode(1)
        }
    }

    static let progress: TopologyOperations.Progress = { phase, done, total, message in
        StandardStream.writeError("[\(phase.rawValue) \(done)/\(total)] \(message)\n")
    }
}

struct LocalApply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Apply a hydrated topology.")

    @Argument(help: "Hydrated topology JSON file, or - for standard input.")
    var file: String
    @OptionGroup var state: StateDirOption
    @OptionGroup var catalog: CatalogOptions
    @OptionGroup var compose: ComposeOptions
    @Flag(help: "Tear down another applied topology first instead of refusing.")
    var supersede = false

    func run() async throws {
        let hydrated = OperatorIO.readJSON(file)
        let agent = LocalAgent.open(
            stateDir: state.stateDir,
            catalog: catalog.load(),
            templatesDir: compose.templatesDir,
            baseImage: compose.baseImage,
            exclusive: true,
            filesRoot: state.resolvedFilesRoot
        )
        let request = ApplyRequest(hydrated: hydrated, versionHash: CanonicalHash.hash(hydrated), supersede: supersede)
        try await agent.finish(await agent.operations.apply(request, progress: LocalAgent.progress))
    }
}

struct LocalTeardown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teardown",
        abstract: "Remove everything labelled with a topology id (works without the store)."
    )

    @Argument(help: "The topology id.")
    var topologyID: String
    @OptionGroup var state: StateDirOption

    func run() async throws {
        guard Identifiers.isValidTopologyID(topologyID) else {
            OperatorIO.fail("topology id must be 1 to 128 characters of A-Z a-z 0-9 . _ - not starting with '.'")
        }
        let agent = LocalAgent.open(
            stateDir: state.stateDir,
            catalog: .default,
            templatesDir: ComposeOptions.defaultTemplatesDir,
            baseImage: TopologyComposer.defaultBaseImage,
            exclusive: true
        )
        try await agent.finish(await agent.operations.teardown(topologyID: topologyID, progress: LocalAgent.progress))
    }
}

struct LocalState: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Print the state object: the store plus what Docker really runs."
    )

    @OptionGroup var state: StateDirOption
    @OptionGroup var catalog: CatalogOptions
    @OptionGroup var compose: ComposeOptions

    func run() async throws {
        let agent = LocalAgent.open(
            stateDir: state.stateDir,
            catalog: catalog.load(),
            templatesDir: compose.templatesDir,
            baseImage: compose.baseImage,
            exclusive: false
        )
        try await agent.finish(.success(await agent.operations.state()))
    }
}
