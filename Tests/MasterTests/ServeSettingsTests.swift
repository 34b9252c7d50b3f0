import DecnetJSON
import MetricsEndpoint
import Testing

@testable import MasterCLI

/// `decnet-master serve`'s settings: flag, else `DECNET_MASTER_*` variable, else config-file key, else default, all
/// from one table (docs/install.md#etcdecnetmasterjson).
@Suite("decnet-master serve settings")
struct ServeSettingsTests {
    static func resolve(
        _ flags: ServeSettings.Flags = .init(),
        environment: [String: String] = [:],
        file: JSONValue? = nil
    ) throws -> ServeSettings {
        try ServeSettings.resolve(flags: flags, environment: environment, file: file, currentDirectory: "/cwd")
    }

    @Test func defaultsWithNothingGiven() throws {
        let s = try Self.resolve()
        #expect(s == ServeSettings(directory: "/cwd", runDirectory: nil))
    }

    @Test func everySettingHasAVariableThatSitsBetweenTheFlagAndTheFile() throws {
        let environment = [
            "DECNET_MASTER_DIR": "/env/dir", "DECNET_MASTER_RUN_DIR": "/env/run",
            "DECNET_MASTER_BIND_HOST": "10.0.0.1", "DECNET_MASTER_COMMAND_PORT": "9771",
            "DECNET_MASTER_HEARTBEAT_PORT": "9772", "DECNET_MASTER_MONITOR_PORT": "9773",
            "DECNET_MASTER_MAX_MESSAGE_SIZE": "1024", "DECNET_MASTER_RETRY_INTERVAL": "2.5",
            "DECNET_MASTER_SILENT_AFTER": "0", "DECNET_MASTER_LOG_FORMAT": "json",
            "DECNET_MASTER_LOG_LEVEL": "debug", "DECNET_MASTER_METRICS": "9108",
            "DECNET_MASTER_RECONCILE_DRIFT_HEARTBEATS": "5",
            "DECNET_MASTER_RECONCILE_BACKOFF": "2.5", "DECNET_MASTER_RECONCILE_BACKOFF_MAX": "60",
            "DECNET_MASTER_RECONCILE_MAX_PUSHES": "4", "DECNET_MASTER_RECONCILE_PUSH_TIMEOUT": "90",
        ]
        let file: JSONValue = [
            "dir": "/file/dir", "run_dir": "/file/run", "bind_host": "10.0.0.2", "command_port": 1,
            "heartbeat_port": 2, "monitor_port": 3, "max_message_size": 4, "retry_interval": 5,
            "silent_after": 6, "log_format": "text", "log_level": "error", "metrics": "[::1]:9109",
            "reconcile_drift_heartbeats": 7,
            "reconcile_backoff": 8, "reconcile_backoff_max": 9, "reconcile_max_pushes": 10,
            "reconcile_push_timeout": 11,
        ]
        // Every variable of the table is exercised, so a setting added without one shows up here.
        #expect(Set(environment.keys) == Set(ServeSettings.Key.allCases.map(\.setting.environment)))
        let fromEnvironment = try Self.resolve(environment: environment, file: file)
        #expect(fromEnvironment.directory == "/env/dir")
        #expect(fromEnvironment.runDirectory == "/env/run")
        #expect(fromEnvironment.bindHost == "10.0.0.1")
        #expect(fromEnvironment.commandPort == 9771)
        #expect(fromEnvironment.heartbeatPort == 9772)
        #expect(fromEnvironment.monitorPort == 9773)
        #expect(fromEnvironment.maxMessageSize == 1024)
        #expect(fromEnvironment.retryInterval == 2.5)
        #expect(fromEnvironment.silentAfter == 0)
        #expect(fromEnvironment.logFormat == "json")
        #expect(fromEnvironment.logLevel == "debug")
        #expect(fromEnvironment.metrics == MetricsAddress(host: "127.0.0.1", port: 9108))
        #expect(fromEnvironment.reconcileDriftHeartbeats == 5)
        #expect(fromEnvironment.reconcileBackoff == 2.5)
        #expect(fromEnvironment.reconcileBackoffMax == 60)
        #expect(fromEnvironment.reconcileMaxPushes == 4)
        #expect(fromEnvironment.reconcilePushTimeout == 90)

        var flags = ServeSettings.Flags()
        flags.bindHost = "127.0.0.1"
        flags.commandPort = 0
        flags.retryInterval = 0.25
        flags.metrics = "0.0.0.0:9110"
        let withFlags = try Self.resolve(flags, environment: environment, file: file)
        #expect(withFlags.metrics == MetricsAddress(host: "0.0.0.0", port: 9110))
        #expect(withFlags.bindHost == "127.0.0.1")
        #expect(withFlags.commandPort == 0)
        #expect(withFlags.retryInterval == 0.25)
        #expect(withFlags.heartbeatPort == 9772)

        let fromFile = try Self.resolve(environment: ["DECNET_MASTER_COMMAND_PORT": ""], file: file)
        #expect(fromFile.commandPort == 1)  // an empty variable counts as unset
        #expect(fromFile.directory == "/file/dir")
        #expect(fromFile.logLevel == "error")
        #expect(fromFile.metrics == MetricsAddress(host: "::1", port: 9109))
        #expect(fromFile.reconcileDriftHeartbeats == 7)
        #expect(fromFile.reconcileMaxPushes == 10)
        #expect(fromFile.reconcilePushTimeout == 11)
    }

    /// Off unless set; a bad address is refused with the setting's own text, from any source.
    @Test func metricsIsOffByDefaultAndABadAddressIsRefused() throws {
        #expect(try Self.resolve().metrics == nil)
        var flags = ServeSettings.Flags()
        flags.metrics = "localhost:99999"
        #expect {
            try Self.resolve(flags)
        } throws: { error in
            "\(error)" == "metrics address 'localhost:99999' needs a port from 0 to 65535"
        }
        #expect(throws: ServeSettings.Problem.self) {
            try Self.resolve(environment: ["DECNET_MASTER_METRICS": "::1:80"])
        }
        #expect(throws: ServeSettings.Problem.self) { try Self.resolve(file: ["metrics": 9108]) }
    }

    @Test(arguments: [
        ("DECNET_MASTER_COMMAND_PORT", "eighty"), ("DECNET_MASTER_RETRY_INTERVAL", "soon"),
        ("DECNET_MASTER_SILENT_AFTER", "1.5"),
    ])
    func aMalformedVariableIsRefusedByName(variable: String, value: String) {
        #expect {
            try Self.resolve(environment: [variable: value])
        } throws: { error in
            "\(error)".hasPrefix("\(variable) '\(value)'") && !"\(error)".contains("\n")
        }
    }

    @Test func variablesAreCheckedLikeTheOtherSources() {
        #expect(throws: ServeSettings.Problem.self) {
            try Self.resolve(environment: ["DECNET_MASTER_MONITOR_PORT": "70000"])
        }
        #expect(throws: ServeSettings.Problem.self) {
            try Self.resolve(environment: ["DECNET_MASTER_LOG_FORMAT": "xml"])
        }
        // Reconcile bounds: no cap of zero, no back-off above its maximum, no negative drift threshold.
        for bad in [
            ["DECNET_MASTER_RECONCILE_MAX_PUSHES": "0"], ["DECNET_MASTER_RECONCILE_BACKOFF": "0"],
            ["DECNET_MASTER_RECONCILE_BACKOFF": "600", "DECNET_MASTER_RECONCILE_BACKOFF_MAX": "60"],
            ["DECNET_MASTER_RECONCILE_DRIFT_HEARTBEATS": "-1"], ["DECNET_MASTER_RECONCILE_PUSH_TIMEOUT": "nan"],
        ] {
            #expect(throws: (any Error).self, "\(bad)") { try Self.resolve(environment: bad) }
        }
    }

    @Test func theFileIsStillTypedAndClosed() {
        #expect(throws: ServeSettings.Problem.self) { try Self.resolve(file: ["command_port": "8771"]) }
        #expect(throws: ServeSettings.Problem.self) { try Self.resolve(file: ["bind_host": 1]) }
        #expect(throws: ServeSettings.Problem.self) { try Self.resolve(file: ["commandport": 1]) }
    }
}
