import DecnetJSON

/// The settings of `decnet-master serve`: each from its flag, else (for the two folders) from its environment
/// variable, else from the JSON config file (`--config FILE` or `DECNET_MASTER_CONFIG`; keys like `"bind_host"`),
/// else its default.
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

    /// The config file's keys.
    static let fileKeys: Set<String> = [
        "dir", "run_dir", "bind_host", "command_port", "heartbeat_port", "monitor_port", "max_message_size",
        "retry_interval", "silent_after", "log_format", "log_level",
    ]

    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

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
    }

    static func resolve(
        flags: Flags,
        environment: [String: String],
        file: JSONValue?,
        currentDirectory: String
    ) throws -> ServeSettings {
        if let file {
            guard let members = file.objectValue else {
                throw Problem(description: "config file must hold a JSON object")
            }
            if let unknown = members.keys.first(where: { !fileKeys.contains($0.value) }) {
                throw Problem(description: "config file has an unknown setting '\(unknown.value)'")
            }
        }
        func string(_ key: String) throws(Problem) -> String? {
            guard let value = file?[key] else { return nil }
            guard let text = value.stringValue else {
                throw Problem(description: "config file setting '\(key)' must be a string")
            }
            return text.isEmpty ? nil : text
        }
        func integer(_ key: String) throws(Problem) -> Int? {
            guard let value = file?[key] else { return nil }
            guard let number = value.intValue else {
                throw Problem(description: "config file setting '\(key)' must be an integer")
            }
            return number
        }
        func number(_ key: String) throws(Problem) -> Double? {
            guard let value = file?[key] else { return nil }
            switch value {
            case .integer: if let n = value.intValue { return Double(n) }
            case .float(let d): return d
            default: break
            }
            throw Problem(description: "config file setting '\(key)' must be a number")
        }
        func environmentValue(_ name: String) -> String? {
            environment[name].flatMap { $0.isEmpty ? nil : $0 }
        }
        var settings = ServeSettings(
            directory: try flags.dir ?? environmentValue("DECNET_MASTER_DIR") ?? string("dir") ?? currentDirectory,
            runDirectory: try flags.runDir ?? environmentValue("DECNET_MASTER_RUN_DIR") ?? string("run_dir")
        )
        settings.bindHost = try flags.bindHost ?? string("bind_host") ?? settings.bindHost
        settings.commandPort = try flags.commandPort ?? integer("command_port") ?? settings.commandPort
        settings.heartbeatPort = try flags.heartbeatPort ?? integer("heartbeat_port") ?? settings.heartbeatPort
        settings.monitorPort = try flags.monitorPort ?? integer("monitor_port") ?? settings.monitorPort
        settings.maxMessageSize = try flags.maxMessageSize ?? integer("max_message_size") ?? settings.maxMessageSize
        settings.retryInterval = try flags.retryInterval ?? number("retry_interval") ?? settings.retryInterval
        settings.silentAfter = try flags.silentAfter ?? integer("silent_after") ?? settings.silentAfter
        settings.logFormat = try flags.logFormat ?? string("log_format") ?? settings.logFormat
        settings.logLevel = try flags.logLevel ?? string("log_level") ?? settings.logLevel
        for (name, port) in [
            ("command port", settings.commandPort), ("heartbeat port", settings.heartbeatPort),
            ("monitor port", settings.monitorPort),
        ] where !(0...65535).contains(port) {
            throw Problem(description: "\(name) \(port) must be 0 to 65535")
        }
        guard (1...1 << 30).contains(settings.maxMessageSize) else {
            throw Problem(description: "max message size must be 1 to 2^30")
        }
        guard settings.retryInterval.isFinite, settings.retryInterval > 0 else {
            throw Problem(description: "retry interval must be positive")
        }
        guard settings.silentAfter >= 0 else { throw Problem(description: "silent-after must be 0 or more") }
        guard settings.logFormat == "text" || settings.logFormat == "json" else {
            throw Problem(description: "log format must be text or json")
        }
        return settings
    }
}
