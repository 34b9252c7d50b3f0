import ArgumentParser
import CLISupport
import Foundation
import Logging
import Master
import ServiceLifecycle
import SystemdNotify

/// `decnet-master serve`: runs the master until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve agents (commands, heartbeats) and monitors; operator commands reach it via DIR/control.ipc.",
        discussion: """
            Each setting comes from its flag, else (--dir, --run-dir) from DECNET_MASTER_DIR or \
            DECNET_MASTER_RUN_DIR, else from the JSON config file (--config or DECNET_MASTER_CONFIG; keys like \
            "bind_host", "command_port"), else from its default. Under systemd (Type=notify) it says READY=1 once \
            its sockets are bound behind their ZAP handlers, keeps STATUS= current, sends WATCHDOG=1 from its timer \
            loop when WatchdogSec= is set, and STOPPING=1 on shutdown; text logs carry no timestamp when standard \
            error is the journal.
            """
    )

    @OptionGroup var directory: DirectoryOptions

    @Option(name: .customLong("bind-host"), help: "Address every socket binds to (default 0.0.0.0).")
    var bindHost: String?

    @Option(name: .customLong("command-port"), help: "ROUTER for agent commands (0: any free port; default 8771).")
    var commandPort: Int?

    @Option(name: .customLong("heartbeat-port"), help: "SUB for agent heartbeats and events (default 8772).")
    var heartbeatPort: Int?

    @Option(name: .customLong("monitor-port"), help: "XPUB relaying heartbeats and events to monitors (default 8773).")
    var monitorPort: Int?

    @Option(name: .customLong("max-message-size"), help: "Largest envelope accepted, in bytes (default 16 MiB).")
    var maxMessageSize: Int?

    @Option(
        name: .customLong("retry-interval"),
        help: "Seconds without news before a request is re-sent (same id; default 10)."
    )
    var retryInterval: Double?

    @Option(
        name: .customLong("silent-after"),
        help: "Heartbeat intervals without a word after which an agent is shown disconnected (0: never; default 3)."
    )
    var silentAfter: Int?

    @Option(name: .customLong("log-format"), help: "text or json (one object per line), on standard error.")
    var logFormat: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    @Option(help: "JSON config file (default: $DECNET_MASTER_CONFIG, else none).")
    var config: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configPath = config ?? environment["DECNET_MASTER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        let settings: ServeSettings
        do {
            settings = try ServeSettings.resolve(
                flags: .init(
                    dir: directory.dir,
                    runDir: directory.runDir,
                    bindHost: bindHost,
                    commandPort: commandPort,
                    heartbeatPort: heartbeatPort,
                    monitorPort: monitorPort,
                    maxMessageSize: maxMessageSize,
                    retryInterval: retryInterval,
                    silentAfter: silentAfter,
                    logFormat: logFormat,
                    logLevel: logLevel
                ),
                environment: environment,
                file: configPath.map { OperatorIO.readJSON($0) },
                currentDirectory: FileManager.default.currentDirectoryPath
            )
        } catch {
            OperatorIO.fail("\(error)")
        }
        guard let level = Logger.Level(rawValue: settings.logLevel) else {
            OperatorIO.fail("--log-level \(settings.logLevel) is unknown")
        }
        JSONLogHandler.bootstrap(format: settings.logFormat, level: level, includeSource: true)
        var configuration = MasterConfiguration(directory: settings.directory)
        configuration.runDirectory = settings.runDirectory
        configuration.bindHost = settings.bindHost
        configuration.commandPort = settings.commandPort
        configuration.heartbeatPort = settings.heartbeatPort
        configuration.monitorPort = settings.monitorPort
        configuration.maxMessageSize = settings.maxMessageSize
        configuration.retryInterval = .milliseconds(Int64(settings.retryInterval * 1000))
        configuration.silence.intervals = settings.silentAfter
        let notifier = ServiceNotifier(SystemdNotifier.fromProcessEnvironment())
        if notifier.isEnabled {
            // From the timer loop: a master whose core actor or timers hang stops kicking the watchdog.
            configuration.tickObserver = { health in
                notifier.status(health.summary)
                notifier.kick()
            }
            configuration.onStopping = { notifier.stopping(status: "stopping: closing sockets") }
        }
        let logger = Logger(label: "decnet.master")
        let server = MasterServer(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: server)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        let readiness = Task {
            // Bound, ZAP handlers running (the master refuses to bind without them), control socket open.
            guard let endpoints = try? await server.endpoints() else { return }
            notifier.ready(status: "serving: command \(endpoints.command), heartbeat \(endpoints.heartbeat)")
            notifier.kick()
        }
        do {
            try await group.run()
        } catch let error as MasterError {
            notifier.stopping(status: "refusing to start: \(error)")
            OperatorIO.fail("refusing to start: \(error)", status: 1)
        } catch {
            notifier.stopping(status: "stopped: \(error)")
            OperatorIO.fail("stopped: \(error)", status: 1)
        }
        readiness.cancel()
    }
}
