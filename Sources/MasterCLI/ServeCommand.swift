import ArgumentParser
import CLISupport
import Foundation
import Logging
import Master
import MetricsEndpoint
import Prometheus
import ServiceLifecycle
import SystemdNotify

/// `decnet-master serve`: runs the master until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    typealias Key = ServeSettings.Key

    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve agents (commands, heartbeats) and monitors; operator commands reach it via DIR/control.ipc.",
        discussion: """
            Each setting comes from its flag, else from its DECNET_MASTER_* environment variable \
            (\(Key.dir.setting.environment), \(Key.bindHost.setting.environment), ...), else from the JSON config \
            file (--config or DECNET_MASTER_CONFIG; keys like "\(Key.bindHost.setting.file)", \
            "\(Key.commandPort.setting.file)"), else from its default. Under systemd (Type=notify) it says READY=1 once \
            its sockets are bound behind their ZAP handlers, keeps STATUS= current, sends WATCHDOG=1 from its timer \
            loop when WatchdogSec= is set, and STOPPING=1 on shutdown; text logs carry no timestamp when standard \
            error is the journal.
            """
    )

    @OptionGroup var directory: DirectoryOptions

    @Option(name: .customLong(Key.bindHost.setting.flag), help: ArgumentHelp(Key.bindHost.optionHelp))
    var bindHost: String?

    @Option(name: .customLong(Key.commandPort.setting.flag), help: ArgumentHelp(Key.commandPort.optionHelp))
    var commandPort: Int?

    @Option(name: .customLong(Key.heartbeatPort.setting.flag), help: ArgumentHelp(Key.heartbeatPort.optionHelp))
    var heartbeatPort: Int?

    @Option(name: .customLong(Key.monitorPort.setting.flag), help: ArgumentHelp(Key.monitorPort.optionHelp))
    var monitorPort: Int?

    @Option(name: .customLong(Key.maxMessageSize.setting.flag), help: ArgumentHelp(Key.maxMessageSize.optionHelp))
    var maxMessageSize: Int?

    @Option(name: .customLong(Key.retryInterval.setting.flag), help: ArgumentHelp(Key.retryInterval.optionHelp))
    var retryInterval: Double?

    @Option(name: .customLong(Key.silentAfter.setting.flag), help: ArgumentHelp(Key.silentAfter.optionHelp))
    var silentAfter: Int?

    @Option(name: .customLong(Key.logFormat.setting.flag), help: ArgumentHelp(Key.logFormat.optionHelp))
    var logFormat: String?

    @Option(name: .customLong(Key.logLevel.setting.flag), help: ArgumentHelp(Key.logLevel.optionHelp))
    var logLevel: String?

    @Option(name: .customLong(Key.metrics.setting.flag), help: ArgumentHelp(Key.metrics.optionHelp))
    var metrics: String?

    @Option(
        name: .customLong(Key.reconcileDriftHeartbeats.setting.flag),
        help: ArgumentHelp(Key.reconcileDriftHeartbeats.optionHelp)
    )
    var reconcileDriftHeartbeats: Int?

    @Option(name: .customLong(Key.reconcileBackoff.setting.flag), help: ArgumentHelp(Key.reconcileBackoff.optionHelp))
    var reconcileBackoff: Double?

    @Option(
        name: .customLong(Key.reconcileBackoffMax.setting.flag),
        help: ArgumentHelp(Key.reconcileBackoffMax.optionHelp)
    )
    var reconcileBackoffMax: Double?

    @Option(
        name: .customLong(Key.reconcileMaxPushes.setting.flag),
        help: ArgumentHelp(Key.reconcileMaxPushes.optionHelp)
    )
    var reconcileMaxPushes: Int?

    @Option(
        name: .customLong(Key.reconcilePushTimeout.setting.flag),
        help: ArgumentHelp(Key.reconcilePushTimeout.optionHelp)
    )
    var reconcilePushTimeout: Double?

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
                    logLevel: logLevel,
                    metrics: metrics,
                    reconcileDriftHeartbeats: reconcileDriftHeartbeats,
                    reconcileBackoff: reconcileBackoff,
                    reconcileBackoffMax: reconcileBackoffMax,
                    reconcileMaxPushes: reconcileMaxPushes,
                    reconcilePushTimeout: reconcilePushTimeout
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
        configuration.reconcile.driftHeartbeats = settings.reconcileDriftHeartbeats
        configuration.reconcile.backoff = .milliseconds(Int64(settings.reconcileBackoff * 1000))
        configuration.reconcile.backoffMax = .milliseconds(Int64(settings.reconcileBackoffMax * 1000))
        configuration.reconcile.maxConcurrentPushes = settings.reconcileMaxPushes
        configuration.reconcile.pushTimeout = .milliseconds(Int64(settings.reconcilePushTimeout * 1000))
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
        let registry = PrometheusCollectorRegistry()
        if settings.metrics != nil {
            configuration.metrics = MasterMetrics(factory: DescribedPrometheusFactory(registry: registry))
        }
        let server = MasterServer(configuration: configuration, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: server)]
        if let address = settings.metrics {
            let endpoint = MetricsHTTPServer(address: address, registry: registry, logger: logger) {
                await server.refreshMetrics()
            }
            services.append(.init(service: endpoint))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
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
        } catch let error as MetricsEndpointError {
            notifier.stopping(status: "refusing to start: \(error)")
            OperatorIO.fail("refusing to start: \(error)", status: 1)
        } catch {
            notifier.stopping(status: "stopped: \(error)")
            OperatorIO.fail("stopped: \(error)", status: 1)
        }
        readiness.cancel()
    }
}
