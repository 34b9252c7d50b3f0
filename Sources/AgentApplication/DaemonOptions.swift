import AgentCore
import AgentProtocol
import AgentTransport
import CLISupport
import DecnetJSON
import SystemFiles
import Topology

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// The settings of `decnet-agent run`, resolved from flags, then `DECNET_*` environment variables, then a JSON config
/// file (`--config FILE` or `DECNET_CONFIG`), then defaults: the first source that sets a value wins.
public struct DaemonOptions: Sendable, Equatable {
    public var agentID: String
    public var masterEndpoint: String
    public var heartbeatEndpoint: String
    public var masterKeyPath: String
    public var keyPath: String
    public var stateDirectory: String
    public var catalogPath: String?
    public var templatesDirectory: String
    public var baseImage: String?
    public var heartbeatIntervalSeconds: Double
    public var logFormat: String
    /// The only folder `files` knobs may mount from (`FilesConfinement`).
    public var filesRoot: String
    /// A one-time enrolment token, or a file holding one (docs/security.md#enrolment-tokens); never printed.
    public var enrolToken: String?
    public var enrolTokenFile: String?

    /// The settings of `decnet-agent run`, each declared once: its flag, `DECNET_*` variable, config-file key, help
    /// text and default. `RunCommand`'s options, `--check-config`'s output and the resolution all read this.
    public enum Key: String, CaseIterable, Sendable {
        case agentID = "agent-id"
        case masterEndpoint = "master-endpoint"
        case heartbeatEndpoint = "heartbeat-endpoint"
        case masterKey = "master-key"
        case key = "key"
        case stateDir = "state-dir"
        case catalog = "catalog"
        case templatesDir = "templates-dir"
        case baseImage = "base-image"
        case heartbeatInterval = "heartbeat-interval"
        case logFormat = "log-format"
        case filesRoot = "files-root"
        case enrolToken = "enrol-token"
        case enrolTokenFile = "enrol-token-file"

        public var setting: Setting {
            let (help, defaultValue): (String, String?) =
                switch self {
                case .agentID: ("This agent's id (the master's allow-list names it).", nil)
                case .masterEndpoint: ("The master's command endpoint, tcp://HOST:8771.", nil)
                case .heartbeatEndpoint: ("The master's heartbeat endpoint, tcp://HOST:8772.", nil)
                case .masterKey:
                    ("The master's public certificate (NAME.key), or a folder of trusted ones (key rollover).", nil)
                case .key: ("This agent's secret certificate (NAME.key_secret).", nil)
                case .stateDir: ("State directory (agent.db, compose files).", DaemonOptions.defaultStateDirectory)
                case .catalog: ("Service catalog JSON file replacing the built-in one.", nil)
                case .templatesDir: ("Folder of the services' build contexts.", DaemonOptions.defaultTemplatesDirectory)
                case .baseImage: ("Base image for decky containers (for registry mirrors).", nil)
                case .heartbeatInterval: ("Seconds between heartbeats, 0.05 to 3600.", "10")
                case .logFormat: ("Log format: text or json.", "text")
                case .filesRoot: ("The only folder `files` knobs may mount from.", FilesConfinement.defaultRoot)
                case .enrolToken: ("A one-time enrolment token (decnet-master keys token); prefer the file.", nil)
                case .enrolTokenFile: ("A file holding a one-time enrolment token.", nil)
                }
            return Setting(rawValue, environmentPrefix: "DECNET_", help: help, default: defaultValue)
        }

        public var flag: String { setting.flag }
        public var environment: String { setting.environment }
        public var file: String { setting.file }

        public static let all = allCases
        public static let table = SettingsTable(allCases.map(\.setting))
    }

    public static let defaultStateDirectory = "/var/lib/decnet-agent"
    public static let defaultTemplatesDirectory = "/usr/share/decnet-agent/templates"

    public typealias Problem = SettingsProblem

    /// Resolves the settings. `flags` maps flag names (without `--`) to values; `file` is the parsed config file.
    public static func resolve(
        flags: [String: String],
        environment: [String: String],
        file: JSONValue?
    ) throws(Problem) -> DaemonOptions {
        let layers = try Key.table.layers(flags: flags, environment: environment, file: file)
        func value(_ key: Key) throws(Problem) -> String? {
            try layers.text(key.setting) ?? key.setting.defaultValue
        }
        func required(_ key: Key) throws(Problem) -> String { try layers.required(key.setting) }
        let agentID = try required(.agentID)
        guard Identifiers.isValidAgentID(agentID) else {
            throw Problem("agent id '\(agentID)' must be 1 to 64 characters of A-Z a-z 0-9 . _ - not starting with '.'")
        }
        let master = try required(.masterEndpoint)
        let heartbeat = try required(.heartbeatEndpoint)
        for (name, endpoint) in [("master endpoint", master), ("heartbeat endpoint", heartbeat)]
        where !AgentLinkConfiguration.isValidEndpoint(endpoint) {
            throw Problem("\(name) '\(endpoint)' is not of the form tcp://HOST:PORT")
        }
        let intervalText = try value(.heartbeatInterval) ?? ""
        guard let interval = Double(intervalText), interval >= 0.05, interval <= 3600 else {
            throw Problem("heartbeat interval '\(intervalText)' must be a number of seconds from 0.05 to 3600")
        }
        let logFormat = try value(.logFormat) ?? ""
        guard logFormat == "text" || logFormat == "json" else {
            throw Problem("log format '\(logFormat)' must be text or json")
        }
        return DaemonOptions(
            agentID: agentID,
            masterEndpoint: master,
            heartbeatEndpoint: heartbeat,
            masterKeyPath: try required(.masterKey),
            keyPath: try required(.key),
            stateDirectory: try value(.stateDir) ?? defaultStateDirectory,
            catalogPath: try value(.catalog),
            templatesDirectory: try value(.templatesDir) ?? defaultTemplatesDirectory,
            baseImage: try value(.baseImage),
            heartbeatIntervalSeconds: interval,
            logFormat: logFormat,
            filesRoot: try value(.filesRoot) ?? FilesConfinement.defaultRoot,
            enrolToken: try value(.enrolToken),
            enrolTokenFile: try value(.enrolTokenFile)
        )
    }

    /// A resolved setting as `--check-config` prints it (under its config-file key).
    public func jsonValue(of key: Key) -> JSONValue {
        func text(_ s: String) -> JSONValue { .string(JSONString(s)) }
        return switch key {
        case .agentID: text(agentID)
        case .masterEndpoint: text(masterEndpoint)
        case .heartbeatEndpoint: text(heartbeatEndpoint)
        case .masterKey: text(masterKeyPath)
        case .key: text(keyPath)
        case .stateDir: text(stateDirectory)
        case .catalog: catalogPath.map(text) ?? .null
        case .templatesDir: text(templatesDirectory)
        case .baseImage: text(baseImage ?? TopologyComposer.defaultBaseImage)
        case .heartbeatInterval: .float(heartbeatIntervalSeconds)
        case .logFormat: text(logFormat)
        case .filesRoot: text(filesRoot)
        // The token is a secret: only whether one is set.
        case .enrolToken: enrolToken == nil ? .null : text("(set)")
        case .enrolTokenFile: enrolTokenFile.map(text) ?? .null
        }
    }

    /// Checks the state directory exists (creating it 0700) and is writable, with one clear line when it is not.
    public static func prepareStateDirectory(_ path: String) throws(Problem) {
        let fm = FileManager.default
        do {
            try fm.createDirectory(
                atPath: path,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw Problem("state directory \(path) cannot be created: \(FileErrorText.reason(error))")
        }
        let probe = path + "/.write-test-\(getpid())"
        guard fm.createFile(atPath: probe, contents: Data("x".utf8)) else {
            throw Problem("state directory \(path) is not writable")
        }
        try? fm.removeItem(atPath: probe)
    }
}
