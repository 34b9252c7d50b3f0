import ArgumentParser
import CLISupport
import Logging
import Master
import ServiceLifecycle

/// `decnet-master serve`: runs the master until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve agents (commands, heartbeats) and monitors; operator commands reach it via DIR/control.ipc.")

    @OptionGroup var directory: DirectoryOptions

    @Option(name: .customLong("bind-host"), help: "Address every socket binds to.")
    var bindHost = "0.0.0.0"

    @Option(name: .customLong("command-port"), help: "ROUTER for agent commands (0: any free port).")
    var commandPort = 8771

    @Option(name: .customLong("heartbeat-port"), help: "SUB for agent heartbeats and events.")
    var heartbeatPort = 8772

    @Option(name: .customLong("monitor-port"), help: "XPUB relaying heartbeats and events to monitors.")
    var monitorPort = 8773

    @Option(name: .customLong("max-message-size"), help: "Largest envelope accepted, in bytes.")
    var maxMessageSize = 16 * 1024 * 1024

    @Option(name: .customLong("retry-interval"), help: "Seconds without news before a request is re-sent (same id).")
    var retryInterval = 10.0

    @Option(
        name: .customLong("silent-after"),
        help: "Heartbeat intervals without a word after which an agent is shown disconnected (0: never).")
    var silentAfter = 3

    @Option(name: .customLong("log-format"), help: "text or json (one object per line), on standard error.")
    var logFormat = "text"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else { InputFile.fail("--log-level \(logLevel) is unknown") }
        guard logFormat == "text" || logFormat == "json" else { InputFile.fail("--log-format must be text or json") }
        JSONLogHandler.bootstrap(format: logFormat, level: level, includeSource: true)
        guard (1...1 << 30).contains(maxMessageSize) else { InputFile.fail("--max-message-size must be 1 to 2^30") }
        guard retryInterval > 0 else { InputFile.fail("--retry-interval must be positive") }
        guard silentAfter >= 0 else { InputFile.fail("--silent-after must be 0 or more") }
        var configuration = MasterConfiguration(directory: directory.path)
        configuration.bindHost = bindHost
        configuration.commandPort = commandPort
        configuration.heartbeatPort = heartbeatPort
        configuration.monitorPort = monitorPort
        configuration.maxMessageSize = maxMessageSize
        configuration.retryInterval = .milliseconds(Int64(retryInterval * 1000))
        configuration.silence.intervals = silentAfter
        let logger = Logger(label: "decnet.master")
        let server = MasterServer(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as MasterError {
            InputFile.fail("refusing to start: \(error)", status: 1)
        } catch {
            InputFile.fail("stopped: \(error)", status: 1)
        }
    }
}
