import AgentApplication
import AgentCore
import AgentStore
import AgentTransport
import ArgumentParser
import CLISupport
import DecnetJSON
import DockerEngine
import FileErrors
import Logging
import ServiceLifecycle
import SystemdNotify
import Topology
import ZeroMQ

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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
            the link's timers (10000/30000/60000 ms, 1000-5000 ms backing off to 60000 ms). Under systemd \
            (Type=notify) it says READY=1 once the store is open, Docker observed (or its error known) and both \
            sockets dial, keeps STATUS= current (link, applied topology, last error), sends WATCHDOG=1 from its \
            liveness loop when WatchdogSec= is set, and STOPPING=1 on shutdown; text logs carry no timestamp when \
            standard error is the journal.
            """
    )

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
    @Flag(
        name: .customLong("check-config"),
        help:
            "Resolve the settings, load both keys and the catalog, check the state directory, print the settings as JSON and exit 0 (2 when something is wrong) without dialling."
    )
    var checkConfig = false

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
        let file = configPath.map { OperatorIO.readJSON($0) }
        let options: DaemonOptions
        do {
            options = try DaemonOptions.resolve(flags: flags, environment: environment, file: file)
            try DaemonOptions.prepareStateDirectory(options.stateDirectory)
        } catch {
            OperatorIO.fail("\(error)")
        }
        JSONLogHandler.bootstrap(format: options.logFormat)
        var logger = Logger(label: "decnet.agent")
        logger[metadataKey: "agent_id"] = "\(options.agentID)"

        // The master refuses a loose master key the same way (SecretFileMode).
        if let problem = SecretFileMode.problem(path: options.keyPath) {
            OperatorIO.fail("agent key \(options.keyPath): \(problem)")
        }
        let master: ZMQCertificate
        let own: ZMQCertificate
        do {
            master = try ZMQCertificate.load(path: options.masterKeyPath)
        } catch {
            OperatorIO.fail("master key \(options.masterKeyPath): \(error)")
        }
        do {
            own = try ZMQCertificate.load(path: options.keyPath)
        } catch {
            OperatorIO.fail("agent key \(options.keyPath): \(error)")
        }
        guard let keys = own.keyPair else {
            OperatorIO.fail("agent key \(options.keyPath) holds no secret key (use NAME.key_secret)")
        }
        let services: ServiceCatalog
        do {
            services = try options.catalogPath.map { try ServiceCatalog.load(contentsOf: $0) } ?? .default
        } catch {
            OperatorIO.fail("catalog \(options.catalogPath ?? ""): \(error)")
        }
        if checkConfig {
            Output.json(Self.describe(options, publicKey: keys.publicKey.z85, masterKey: master.publicKey.z85))
            return
        }
        let client: DockerClient
        do {
            client = DockerClient(configuration: try .fromEnvironment())
        } catch {
            OperatorIO.fail("DOCKER_HOST: \(error)")
        }
        let settings = AgentSettings(
            agentID: options.agentID,
            agentVersion: AgentVersion.current,
            bootID: UUID().uuidString.lowercased(),
            stateDirectory: options.stateDirectory,
            catalog: services,
            templatesRoot: absolutePath(options.templatesDirectory),
            baseImage: options.baseImage ?? TopologyComposer.defaultBaseImage,
            heartbeatIntervalMillis: Int(options.heartbeatIntervalSeconds * 1000),
            filesRoot: absolutePath(options.filesRoot),
            protectedPaths: [
                folder(of: absolutePath(options.keyPath)), folder(of: absolutePath(options.masterKeyPath)),
                client.configuration.socketPath,
            ]
        )
        let runtime = DockerTopologyRuntime(
            client: client,
            configuration: .init(stateDirectory: options.stateDirectory),
            logger: logger
        )
        var link = AgentLinkConfiguration(
            agentID: options.agentID,
            commandEndpoint: options.masterEndpoint,
            heartbeatEndpoint: options.heartbeatEndpoint,
            masterKey: master.publicKey,
            keys: keys
        )
        do {
            try link.applyTuning(environment: environment)  // advanced DECNET_ZMTP_*_MS, DECNET_RECONNECT_*_MS
        } catch {
            OperatorIO.fail("\(error)")
        }
        let notifier = ServiceNotifier(SystemdNotifier.fromProcessEnvironment())
        let lifecycle =
            notifier.isEnabled
            ? DaemonLifecycle(
                ready: { notifier.ready(status: $0) },
                status: { notifier.status($0) },
                alive: { notifier.kick() },
                // At most every 5 s (half the watchdog interval when that is shorter): often enough for
                // `systemctl status`, rarely enough that an idle agent's code pages stay released (ResidentMemoryTrim).
                stopping: { notifier.stopping(status: $0) },
                interval: notifier.loopInterval(ceiling: .seconds(5))
            )
            : .none
        let core: AgentCoreParts
        do {
            core = try AgentCoreParts.open(settings: settings, runtime: runtime, locking: .guarded, logger: logger)
        } catch {
            OperatorIO.fail("state directory \(options.stateDirectory): \(error)")
        }
        let app: AgentApplication
        do {
            app = try await buildAgent(
                configuration: AgentConfiguration(settings: settings, link: link, lifecycle: lifecycle),
                core: core,
                observer: { await runtime.run() },
                onClose: { try? await client.shutdown() },
                logger: logger
            )
        } catch {
            // The sockets could not be set up: as if the daemon had failed while running.
            logger.error("agent failed: \(error)")
            notifier.stopping(status: "failed: \(error)")
            try? await client.shutdown()
            core.close()
            throw ExitCode(1)
        }
        var failure: (any Error)?
        do {
            try await app.serviceGroup(gracefulShutdownSignals: [.sigterm, .sigint]).run()
        } catch {
            failure = error
            logger.error("agent failed: \(error)")
            notifier.stopping(status: "failed: \(error)")
        }
        await app.close()
        if failure != nil { throw ExitCode(1) }
    }

    /// The resolved settings, as `--check-config` prints them (key names as in the config file), with both public
    /// keys so an operator can compare them with the master's allow-list.
    static func describe(_ options: DaemonOptions, publicKey: String, masterKey: String) -> JSONValue {
        var object = JSONObject()
        object["agent_id"] = .string(JSONString(options.agentID))
        object["master_endpoint"] = .string(JSONString(options.masterEndpoint))
        object["heartbeat_endpoint"] = .string(JSONString(options.heartbeatEndpoint))
        object["master_key"] = .string(JSONString(options.masterKeyPath))
        object["key"] = .string(JSONString(options.keyPath))
        object["state_dir"] = .string(JSONString(options.stateDirectory))
        object["catalog"] = options.catalogPath.map { .string(JSONString($0)) } ?? .null
        object["templates_dir"] = .string(JSONString(options.templatesDirectory))
        object["base_image"] = .string(JSONString(options.baseImage ?? TopologyComposer.defaultBaseImage))
        object["heartbeat_interval"] = .float(options.heartbeatIntervalSeconds)
        object["log_format"] = .string(JSONString(options.logFormat))
        object["files_root"] = .string(JSONString(options.filesRoot))
        object["public_key"] = .string(JSONString(publicKey))
        object["master_public_key"] = .string(JSONString(masterKey))
        return .object(object)
    }
}
