import CLISupport
import DecnetJSON
import MetricsEndpoint

/// The settings of `decnet-master serve`: each from its flag, else its `DECNET_MASTER_*` environment variable, else
/// the JSON config file (`--config FILE` or `DECNET_MASTER_CONFIG`; keys like `"bind_host"`), else its default.
struct ServeSettings: Equatable {
    var directory: String
    var runDirectory: String?
    var bindHost = "0.0.0.0"
    var commandPort = 8771
    var heartbeatPort = 8772
    var monitorPort = 8773
    var maxMessageSize = 16 * 1024 * 1024
    var retryInterval = 10.0
    var silentAfter = 3
    var logFormat = "text"
    var logLevel = "info"
    /// Where the Prometheus endpoint listens; none when unset (docs/metrics.md#enabling).
    var metrics: MetricsAddress?
    var reconcileDriftHeartbeats = 3
    var reconcileBackoff = 5.0
    var reconcileBackoffMax = 300.0
    var reconcileMaxPushes = 16
    var reconcilePushTimeout = 600.0

    /// The settings of `serve`, each declared once: flag, `DECNET_MASTER_*` variable, config-file key, help text and
    /// default. `ServeCommand`'s options and the resolution read this.
    enum Key: String, CaseIterable {
        case dir = "dir"
        case runDir = "run-dir"
        case bindHost = "bind-host"
        case commandPort = "command-port"
        case heartbeatPort = "heartbeat-port"
        case monitorPort = "monitor-port"
        case maxMessageSize = "max-message-size"
        case retryInterval = "retry-interval"
        case silentAfter = "silent-after"
        case logFormat = "log-format"
        case logLevel = "log-level"
        case metrics = "metrics"
        case reconcileDriftHeartbeats = "reconcile-drift-heartbeats"
        case reconcileBackoff = "reconcile-backoff"
        case reconcileBackoffMax = "reconcile-backoff-max"
        case reconcileMaxPushes = "reconcile-max-pushes"
        case reconcilePushTimeout = "reconcile-push-timeout"

        var setting: Setting {
            let defaults = ServeSettings(directory: "")
            let (help, defaultValue): (String, String?) =
                switch self {
                case .dir: ("The master's directory (keys, allow-lists).", "the current directory")
                case .runDir: ("Folder of control.ipc and master.lock.", "the master's directory")
                case .bindHost: ("Address every socket binds to.", defaults.bindHost)
                case .commandPort: ("ROUTER for agent commands (0: any free port).", "\(defaults.commandPort)")
                case .heartbeatPort: ("SUB for agent heartbeats and events.", "\(defaults.heartbeatPort)")
                case .monitorPort: ("XPUB relaying heartbeats and events to monitors.", "\(defaults.monitorPort)")
                case .maxMessageSize: ("Largest envelope accepted, in bytes.", "\(defaults.maxMessageSize)")
                case .retryInterval:
                    ("Seconds without news before a request is re-sent (same id).", "\(defaults.retryInterval)")
                case .silentAfter:
                    (
                        "Heartbeat intervals without a word after which an agent is shown disconnected (0: never).",
                        "\(defaults.silentAfter)"
                    )
                case .logFormat: ("text or json (one object per line), on standard error.", defaults.logFormat)
                case .logLevel: ("trace, debug, info, notice, warning, error or critical.", defaults.logLevel)
                case .metrics:
                    ("Serve Prometheus metrics at HOST:PORT (a port alone binds 127.0.0.1).", "none (no endpoint)")
                case .reconcileDriftHeartbeats:
                    (
                        "Consecutive heartbeats with drift before the desired topology is re-applied.",
                        "\(defaults.reconcileDriftHeartbeats)"
                    )
                case .reconcileBackoff:
                    (
                        "Seconds before a push that did not converge is retried; doubles each time.",
                        "\(defaults.reconcileBackoff)"
                    )
                case .reconcileBackoffMax:
                    ("Longest reconcile back-off, in seconds.", "\(defaults.reconcileBackoffMax)")
                case .reconcileMaxPushes:
                    ("Reconcile pushes in flight at once, fleet-wide.", "\(defaults.reconcileMaxPushes)")
                case .reconcilePushTimeout:
                    (
                        "Seconds a reconcile push may take before it counts as failed.",
                        "\(defaults.reconcilePushTimeout)"
                    )
                }
            return Setting(rawValue, environmentPrefix: "DECNET_MASTER_", help: help, default: defaultValue)
        }

        var optionHelp: String { setting.optionHelp }

        static let table = SettingsTable(allCases.map(\.setting))
    }

    typealias Problem = SettingsProblem

    /// The flags that were given (parsed, `nil` when absent).
    struct Flags {
        var dir: String?
        var runDir: String?
        var bindHost: String?
        var commandPort: Int?
        var heartbeatPort: Int?
        var monitorPort: Int?
        var maxMessageSize: Int?
        var retryInterval: Double?
        var silentAfter: Int?
        var logFormat: String?
        var logLevel: String?
        var metrics: String?
        var reconcileDriftHeartbeats: Int?
        var reconcileBackoff: Double?
        var reconcileBackoffMax: Double?
        var reconcileMaxPushes: Int?
        var reconcilePushTimeout: Double?

        /// The given flags by name, as text (numbers print back exactly).
        var byName: [String: String] {
            let given: [(Key, String?)] = [
                (.dir, dir), (.runDir, runDir), (.bindHost, bindHost), (.commandPort, commandPort.map { "\($0)" }),
                (.heartbeatPort, heartbeatPort.map { "\($0)" }), (.monitorPort, monitorPort.map { "\($0)" }),
                (.maxMessageSize, maxMessageSize.map { "\($0)" }), (.retryInterval, retryInterval.map { "\($0)" }),
                (.silentAfter, silentAfter.map { "\($0)" }), (.logFormat, logFormat), (.logLevel, logLevel),
                (.metrics, metrics),
                (.reconcileDriftHeartbeats, reconcileDriftHeartbeats.map { "\($0)" }),
                (.reconcileBackoff, reconcileBackoff.map { "\($0)" }),
                (.reconcileBackoffMax, reconcileBackoffMax.map { "\($0)" }),
                (.reconcileMaxPushes, reconcileMaxPushes.map { "\($0)" }),
                (.reconcilePushTimeout, reconcilePushTimeout.map { "\($0)" }),
            ]
            var names: [String: String] = [:]
            for (key, value) in given {
                if let value { names[key.setting.flag] = value }
            }
            return names
        }
    }

    static func resolve(
        flags: Flags,
        environment: [String: String],
        file: JSONValue?,
        currentDirectory: String
    ) throws -> ServeSettings {
        let layers = try Key.table.layers(flags: flags.byName, environment: environment, file: file)
        var settings = ServeSettings(
            directory: try layers.string(Key.dir.setting) ?? currentDirectory,
            runDirectory: try layers.string(Key.runDir.setting)
        )
        settings.bindHost = try layers.string(Key.bindHost.setting) ?? settings.bindHost
        settings.commandPort = try layers.integer(Key.commandPort.setting) ?? settings.commandPort
        settings.heartbeatPort = try layers.integer(Key.heartbeatPort.setting) ?? settings.heartbeatPort
        settings.monitorPort = try layers.integer(Key.monitorPort.setting) ?? settings.monitorPort
        settings.maxMessageSize = try layers.integer(Key.maxMessageSize.setting) ?? settings.maxMessageSize
        settings.retryInterval = try layers.number(Key.retryInterval.setting) ?? settings.retryInterval
        settings.silentAfter = try layers.integer(Key.silentAfter.setting) ?? settings.silentAfter
        settings.logFormat = try layers.string(Key.logFormat.setting) ?? settings.logFormat
        settings.logLevel = try layers.string(Key.logLevel.setting) ?? settings.logLevel
        if let text = try layers.string(Key.metrics.setting) {
            do {
                settings.metrics = try MetricsAddress(parsing: text)
            } catch {
                throw Problem(error.description)
            }
        }
        settings.reconcileDriftHeartbeats =
            try layers.integer(Key.reconcileDriftHeartbeats.setting) ?? settings.reconcileDriftHeartbeats
        settings.reconcileBackoff = try layers.number(Key.reconcileBackoff.setting) ?? settings.reconcileBackoff
        settings.reconcileBackoffMax =
            try layers.number(Key.reconcileBackoffMax.setting) ?? settings.reconcileBackoffMax
        settings.reconcileMaxPushes = try layers.integer(Key.reconcileMaxPushes.setting) ?? settings.reconcileMaxPushes
        settings.reconcilePushTimeout =
            try layers.number(Key.reconcilePushTimeout.setting) ?? settings.reconcilePushTimeout
        guard settings.reconcileDriftHeartbeats >= 0 else {
            throw Problem("reconcile-drift-heartbeats must be 0 or more")
        }
        for (name, seconds) in [
            ("reconcile-backoff", settings.reconcileBackoff), ("reconcile-backoff-max", settings.reconcileBackoffMax),
            ("reconcile-push-timeout", settings.reconcilePushTimeout),
        ] where !(seconds.isFinite && seconds > 0 && seconds <= 604_800) {
            throw Problem("\(name) must be more than 0 and at most 604800 seconds")
        }
        guard settings.reconcileBackoff <= settings.reconcileBackoffMax else {
            throw Problem("reconcile-backoff must not exceed reconcile-backoff-max")
        }
        guard settings.reconcileMaxPushes >= 1 else { throw Problem("reconcile-max-pushes must be 1 or more") }
        for (name, port) in [
            ("command port", settings.commandPort), ("heartbeat port", settings.heartbeatPort),
            ("monitor port", settings.monitorPort),
        ] where !(0...65535).contains(port) {
            throw Problem("\(name) \(port) must be 0 to 65535")
        }
        guard (1...1 << 30).contains(settings.maxMessageSize) else {
            throw Problem("max message size must be 1 to 2^30")
        }
        guard settings.retryInterval.isFinite, settings.retryInterval > 0 else {
            throw Problem("retry interval must be positive")
        }
        guard settings.silentAfter >= 0 else { throw Problem("silent-after must be 0 or more") }
        guard settings.logFormat == "text" || settings.logFormat == "json" else {
            throw Problem("log format must be text or json")
        }
        return settings
    }
}
