import AgentCore
import AgentStore
import AgentTransport
import ArgumentParser
import CLISupport
import DecnetJSON
import DockerEngine
import FileErrors
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import ServiceLifecycle
import Topology
import ZeroMQ

/// `decnet-agent run`: the fleet agent daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Dial the master over ZeroMQ with CURVE, answer its commands and publish heartbeats.",
        discussion: """
            Each setting comes from its flag, else from its DECNET_* environment variable (DECNET_AGENT_ID, \
            DECNET_MASTER_ENDPOINT, ...), else from the JSON config file (--config or DECNET_CONFIG; keys like \
            "agent_id"), else from its default. Stops gracefully on SIGTERM or SIGINT. Advanced, for tests only: \
            DECNET_ZMTP_HEARTBEAT_IVL_MS, _TIMEOUT_MS, _TTL_MS and DECNET_RECONNECT_IVL_MS, _IVL_MAX_MS override \
            the link's timers (10000/30000/60000 ms, 1000-5000 ms backing off to 60000 ms).
            """)

    @Option(name: .customLong("agent-id"), help: "This agent's id (the master's allow-list names it).")
    var agentID: String?
    @Option(help: "The master's command endpoint, tcp://HOST:8771.")
    var masterEndpoint: String?
    @Option(help: "The master's heartbeat endpoint, tcp://HOST:8772.")
    var heartbeatEndpoint: String?
    @Option(help: "The master's public certificate (NAME.key).")
    var masterKey: String?
    @Option(help: "This agent's secret certificate (NAME.key_secret).")
    var key: String?
    @Option(help: "State directory (agent.db, compose files). Default \(DaemonOptions.defaultStateDirectory).")
    var stateDir: String?
    @Option(help: "Service catalog JSON file replacing the built-in one.")
    var catalog: String?
    @Option(help: "Folder of the services' build contexts.")
    var templatesDir: String?
    @Option(help: "Base image for decky containers (for registry mirrors).")
    var baseImage: String?
    @Option(help: "Seconds between heartbeats (default 10).")
    var heartbeatInterval: String?
    @Option(help: "The only folder `files` knobs may mount from. Default \(FilesConfinement.defaultRoot).")
    var filesRoot: String?
    @Option(help: "Log format: text or json.")
    var logFormat: String?
    @Option(help: "JSON config file.")
    var config: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var flags: [String: String] = [:]
        for (key, value) in [
            ("agent-id", agentID), ("master-endpoint", masterEndpoint), ("heartbeat-endpoint", heartbeatEndpoint),
            ("master-key", masterKey), ("key", key), ("state-dir", stateDir), ("catalog", catalog),
            ("templates-dir", templatesDir), ("base-image", baseImage), ("heartbeat-interval", heartbeatInterval),
            ("log-format", logFormat), ("files-root", filesRoot),
        ] {
            if let value { flags[key] = value }
        }
        let configPath = config ?? environment["DECNET_CONFIG"]
        let file = configPath.map { InputFile.readJSON($0) }
        let options: DaemonOptions
        do {
            options = try DaemonOptions.resolve(flags: flags, environment: environment, file: file)
            try DaemonOptions.prepareStateDirectory(options.stateDirectory)
        } catch {
            InputFile.fail("\(error)")
        }
        JSONLogHandler.bootstrap(format: options.logFormat)
        var logger = Logger(label: "decnet.agent")
        logger[metadataKey: "agent_id"] = "\(options.agentID)"

        // The master refuses a loose master key the same way (SecretFileMode).
        if let problem = SecretFileMode.problem(path: options.keyPath) {
            InputFile.fail("agent key \(options.keyPath): \(problem)")
        }
        let master: ZMQCertificate
        let own: ZMQCertificate
        do {
            master = try ZMQCertificate.load(path: options.masterKeyPath)
        } catch {
            InputFile.fail("master key \(options.masterKeyPath): \(error)")
        }
        do {
            own = try ZMQCertificate.load(path: options.keyPath)
        } catch {
            InputFile.fail("agent key \(options.keyPath): \(error)")
        }
        guard let keys = own.keyPair else {
            InputFile.fail("agent key \(options.keyPath) holds no secret key (use NAME.key_secret)")
        }
        let services: ServiceCatalog
        do {
            services = try options.catalogPath.map { try ServiceCatalog.load(contentsOf: $0) } ?? .default
        } catch {
            InputFile.fail("catalog \(options.catalogPath ?? ""): \(error)")
        }
        let lock: StateDirectoryGuard
        let store: TopologyStore
        do {
            lock = try StateDirectoryGuard(stateDirectory: options.stateDirectory)
            store = try TopologyStore(path: options.stateDirectory + "/" + TopologyStore.fileName, logger: logger)
            lock.storeOpened()
        } catch {
            InputFile.fail("state directory \(options.stateDirectory): \(error)")
        }
        let client: DockerClient
        do {
            client = DockerClient(configuration: try .fromEnvironment())
        } catch {
            InputFile.fail("DOCKER_HOST: \(error)")
        }
        let settings = AgentSettings(
            agentID: options.agentID, agentVersion: AgentVersion.current, bootID: UUID().uuidString.lowercased(),
            stateDirectory: options.stateDirectory, catalog: services, templatesRoot: absolutePath(options.templatesDirectory),
            baseImage: options.baseImage ?? TopologyComposer.defaultBaseImage,
            heartbeatIntervalMillis: Int(options.heartbeatIntervalSeconds * 1000),
            filesRoot: absolutePath(options.filesRoot),
            protectedPaths: [
                folder(of: absolutePath(options.keyPath)), folder(of: absolutePath(options.masterKeyPath)),
                client.configuration.socketPath,
            ])
        let runtime = DockerTopologyRuntime(
            client: client, configuration: .init(stateDirectory: options.stateDirectory), logger: logger)
        var link = AgentLinkConfiguration(
            agentID: options.agentID, commandEndpoint: options.masterEndpoint,
            heartbeatEndpoint: options.heartbeatEndpoint, masterKey: master.publicKey, keys: keys)
        do {
            try link.applyTuning(environment: environment)  // advanced DECNET_ZMTP_*_MS, DECNET_RECONNECT_*_MS
        } catch {
            InputFile.fail("\(error)")
        }
        let daemon = AgentDaemon(
            settings: settings, link: link, store: store, runtime: runtime,
            runtimeService: { await runtime.run() }, stateGuard: lock, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: daemon)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("agent failed: \(error)")
            try? await client.shutdown()
            store.close()
            withExtendedLifetime(lock) {}
            throw ExitCode(1)
        }
        try? await client.shutdown()
        store.close()
        withExtendedLifetime(lock) {}
    }
}
