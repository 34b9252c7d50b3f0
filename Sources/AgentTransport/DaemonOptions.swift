import AgentCore
import AgentProtocol
import DecnetJSON
import FileErrors
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

    /// One setting: its flag, environment variable and config-file key.
    public struct Key: Sendable, Hashable {
        public let flag: String
        public let environment: String
        public let file: String

        init(_ name: String) {
            flag = name
            environment = "DECNET_" + name.uppercased().replacing("-", with: "_")
            file = name.replacing("-", with: "_")
        }

        public static let agentID = Key("agent-id")
        public static let masterEndpoint = Key("master-endpoint")
        public static let heartbeatEndpoint = Key("heartbeat-endpoint")
        // swift-format-ignore: DontRepeatTypeInStaticProperties
        public static let masterKey = Key("master-key")
        public static let key = Key("key")
        public static let stateDir = Key("state-dir")
        public static let catalog = Key("catalog")
        public static let templatesDir = Key("templates-dir")
        public static let baseImage = Key("base-image")
        public static let heartbeatInterval = Key("heartbeat-interval")
        public static let logFormat = Key("log-format")
        public static let filesRoot = Key("files-root")

        public static let all: [Key] = [
            agentID, masterEndpoint, heartbeatEndpoint, masterKey, key, stateDir, catalog, templatesDir, baseImage,
            heartbeatInterval, logFormat, filesRoot,
        ]
    }

    public static let defaultStateDirectory = "/var/lib/decnet-agent"
    public static let defaultTemplatesDirectory = "/usr/share/decnet-agent/templates"

    /// A setting that is missing or wrong, said in one line.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Resolves the settings. `flags` maps flag names (without `--`) to values; `file` is the parsed config file.
    public static func resolve(
        flags: [String: String],
        environment: [String: String],
        file: JSONValue?
    ) throws(Problem) -> DaemonOptions {
        if let file, file.objectValue == nil { throw Problem("config file must hold a JSON object") }
        if let members = file?.objectValue?.keys {
            let known = Set(Key.all.map(\.file))
            if let unknown = members.first(where: { !known.contains($0.value) }) {
                throw Problem("config file has an unknown setting '\(unknown.value)'")
            }
        }
        func value(_ key: Key) throws(Problem) -> String? {
            if let v = flags[key.flag] { return v }
            if let v = environment[key.environment], !v.isEmpty { return v }
            guard let v = file?[key.file] else { return nil }
            switch v {
            case .string(let s): return s.value.isEmpty ? nil : s.value  // "" in the file: not set
            case .integer(let i): return i.description
            case .float(let d): return String(d)
            default: throw Problem("config file setting '\(key.file)' must be a string or a number")
            }
        }
        func required(_ key: Key) throws(Problem) -> String {
            guard let v = try value(key) else {
                throw Problem("missing --\(key.flag) (or \(key.environment), or \"\(key.file)\" in the config file)")
            }
            return v
        }
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
        let intervalText = try value(.heartbeatInterval) ?? "10"
        guard let interval = Double(intervalText), interval >= 0.05, interval <= 3600 else {
            throw Problem("heartbeat interval '\(intervalText)' must be a number of seconds from 0.05 to 3600")
        }
        let logFormat = try value(.logFormat) ?? "text"
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
            filesRoot: try value(.filesRoot) ?? FilesConfinement.defaultRoot
        )
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
