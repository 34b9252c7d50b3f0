import AgentApplication
import AgentCore
import AgentStore
import AgentTransport
import ArgumentParser
import CLISupport
import DecnetJSON
import DockerEngine
import DockerRuntime
import Logging
import ServiceLifecycle
import SystemFiles
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
    typealias Key = DaemonOptions.Key

    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Dial the master over ZeroMQ with CURVE, answer its commands and publish heartbeats.",
        discussion: """
            Each setting comes from its flag, else from its DECNET_* environment variable (\(Key.agentID.environment), \
            \(Key.masterEndpoint.environment), ...), else from the JSON config file (--config or DECNET_CONFIG; keys \
            like "\(Key.agentID.file)"), else from its default. Stops gracefully on SIGTERM or SIGINT. Advanced, for tests only: \
            DECNET_ZMTP_HEARTBEAT_IVL_MS, _TIMEOUT_MS, _TTL_MS and DECNET_RECONNECT_IVL_MS, _IVL_MAX_MS override \
            the link's timers (10000/30000/0 ms, 200-1000 ms backing off to 60000 ms; the heartbeat socket PINGs \
            six times less often and sets ZMQ_TCP_MAXRT to the timeout); \
            DECNET_TEST_FAULT=rotate-before-commit or rotate-mid-commit kills the agent at that point of a key \
            rotation (a crash test; unset: off). Under systemd \
            (Type=notify) it says READY=1 once the store is open, Docker observed (or its error known) and both \
            sockets dial, keeps STATUS= current (link, applied topology, last error), sends WATCHDOG=1 from its \
            liveness loop when WatchdogSec= is set, and STOPPING=1 on shutdown; text logs carry no timestamp when \
            standard error is the journal.
            """
    )

    @Option(name: .customLong(Key.agentID.flag), help: ArgumentHelp(Key.agentID.setting.optionHelp))
    var agentID: String?
    @Option(name: .customLong(Key.masterEndpoint.flag), help: ArgumentHelp(Key.masterEndpoint.setting.optionHelp))
    var masterEndpoint: String?
    @Option(name: .customLong(Key.heartbeatEndpoint.flag), help: ArgumentHelp(Key.heartbeatEndpoint.setting.optionHelp))
    var heartbeatEndpoint: String?
    @Option(name: .customLong(Key.masterKey.flag), help: ArgumentHelp(Key.masterKey.setting.optionHelp))
    var masterKey: String?
    @Option(name: .customLong(Key.key.flag), help: ArgumentHelp(Key.key.setting.optionHelp))
    var key: String?
    @Option(name: .customLong(Key.stateDir.flag), help: ArgumentHelp(Key.stateDir.setting.optionHelp))
    var stateDir: String?
    @Option(name: .customLong(Key.catalog.flag), help: ArgumentHelp(Key.catalog.setting.optionHelp))
    var catalog: String?
    @Option(name: .customLong(Key.templatesDir.flag), help: ArgumentHelp(Key.templatesDir.setting.optionHelp))
    var templatesDir: String?
    @Option(name: .customLong(Key.baseImage.flag), help: ArgumentHelp(Key.baseImage.setting.optionHelp))
    var baseImage: String?
    @Option(name: .customLong(Key.heartbeatInterval.flag), help: ArgumentHelp(Key.heartbeatInterval.setting.optionHelp))
    var heartbeatInterval: String?
    @Option(name: .customLong(Key.filesRoot.flag), help: ArgumentHelp(Key.filesRoot.setting.optionHelp))
    var filesRoot: String?
    @Option(name: .customLong(Key.logFormat.flag), help: ArgumentHelp(Key.logFormat.setting.optionHelp))
    var logFormat: String?
    @Option(name: .customLong(Key.enrolToken.flag), help: ArgumentHelp(Key.enrolToken.setting.optionHelp))
    var enrolToken: String?
    @Option(name: .customLong(Key.enrolTokenFile.flag), help: ArgumentHelp(Key.enrolTokenFile.setting.optionHelp))
    var enrolTokenFile: String?
    @Option(help: "JSON config file (else $DECNET_CONFIG).")
    var config: String?
    @Flag(
        name: .customLong("check-config"),
        help:
            "Resolve the settings, load both keys and the catalog, check the state directory, print the settings as JSON and exit 0 (2 when something is wrong) without dialling."
    )
    var checkConfig = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        // Each option is the table's setting of the same name (`DaemonOptions.Key`).
        let given: [(Key, String?)] = [
            (.agentID, agentID), (.masterEndpoint, masterEndpoint), (.heartbeatEndpoint, heartbeatEndpoint),
            (.masterKey, masterKey), (.key, key), (.stateDir, stateDir), (.catalog, catalog),
            (.templatesDir, templatesDir), (.baseImage, baseImage), (.heartbeatInterval, heartbeatInterval),
            (.logFormat, logFormat), (.filesRoot, filesRoot), (.enrolToken, enrolToken),
            (.enrolTokenFile, enrolTokenFile),
        ]
        var flags: [String: String] = [:]
        for (key, value) in given {
            if let value { flags[key.flag] = value }
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

        if !checkConfig {
            do {
                if try AgentKeyBootstrap.ensure(secretPath: options.keyPath, agentID: options.agentID) {
                    logger.notice("made this agent's key pair", metadata: ["key": "\(options.keyPath)"])
                }
            } catch {
                OperatorIO.fail("agent key \(options.keyPath): cannot make one: \(FileErrorText.reason(error))")
            }
        }
        // The master refuses a loose master key the same way (SecretFileMode).
        if let problem = SecretFileMode.problem(path: options.keyPath) {
            OperatorIO.fail("agent key \(options.keyPath): \(problem)")
        }
        // A file, or a folder of trusted master keys (docs/security.md#master-key-rollover).
        let trustedMasterKeys = TrustedMasterKeys(path: options.masterKeyPath)
        let firstMasterKey: CurveKey
        let own: ZMQCertificate
        do {
            firstMasterKey = try trustedMasterKeys.load()[0]
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
        // docs/security.md#fingerprint: what the operator compares with `decnet-master keys list`.
        logger.notice("agent key", metadata: ["fingerprint": "\(keys.publicKey.fingerprint)"])
        let services: ServiceCatalog
        do {
            services = try options.catalogPath.map { try ServiceCatalog.load(contentsOf: $0) } ?? .default
        } catch {
            OperatorIO.fail("catalog \(options.catalogPath ?? ""): \(error)")
        }
        if checkConfig {
            Output.json(Self.describe(options, publicKey: keys.publicKey.z85, masterKey: firstMasterKey.z85))
            return
        }
        let client: DockerClient
        do {
            client = DockerClient(configuration: try .fromEnvironment())
        } catch {
            OperatorIO.fail("DOCKER_HOST: \(error)")
        }
        // docs/security.md#key-rotation: answers rotate_key and switches the link's keys. DECNET_TEST_FAULT arms a
        // crash point for tests (off when unset); a commit a crash interrupted is finished before dialling.
        let fault: AgentTestFault?
        do {
            fault = try AgentTestFault.armed(environment: environment)
        } catch {
            OperatorIO.fail("\(error)")
        }
        let rotator = AgentKeyRotator(secretPath: options.keyPath, current: keys, logger: logger, fault: fault)
        rotator.finishInterruptedCommit()
        var settings = AgentSettings(
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
        settings.keyRotation = rotator
        let runtime = DockerTopologyRuntime(
            client: client,
            configuration: .init(stateDirectory: options.stateDirectory),
            logger: logger
        )
        var link = AgentLinkConfiguration(
            agentID: options.agentID,
            commandEndpoint: options.masterEndpoint,
            heartbeatEndpoint: options.heartbeatEndpoint,
            masterKey: firstMasterKey,
            keys: keys
        )
        link.trustedMasterKeys = trustedMasterKeys
        link.keyRotator = rotator
        link.enrolToken = Self.enrolmentToken(options)
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
    /// The enrolment token of `--enrol-token` or `--enrol-token-file` (docs/security.md#enrolment-tokens); exits 2
    /// when it is malformed or unreadable, without repeating it.
    static func enrolmentToken(_ options: DaemonOptions) -> EnrolmentToken? {
        var text = options.enrolToken
        if text == nil, let path = options.enrolTokenFile {
            guard let bytes = FileManager.default.contents(atPath: path), bytes.count <= 4096 else {
                OperatorIO.fail("enrol token file \(path): cannot be read")
            }
            text = String(decoding: bytes, as: UTF8.self)
        }
        guard let text else { return nil }
        do {
            return try EnrolmentToken(text: text)
        } catch {
            OperatorIO.fail("enrol token: \(error.message)")
        }
    }

    static func describe(_ options: DaemonOptions, publicKey: String, masterKey: String) -> JSONValue {
        var object = JSONObject()
        for key in Key.allCases {
            object[key.file] = options.jsonValue(of: key)
        }
        object["public_key"] = .string(JSONString(publicKey))
        object["master_public_key"] = .string(JSONString(masterKey))
        return .object(object)
    }
}
