import AgentApplication
import DecnetJSON
import Foundation
import Testing

@Suite("decnet-agent run settings")
struct DaemonOptionsTests {
    static let minimal: [String: String] = [
        "agent-id": "host-17", "master-endpoint": "tcp://master:8771", "heartbeat-endpoint": "tcp://master:8772",
        "master-key": "/etc/decnet/master.key", "key": "/etc/decnet/agent.key_secret",
    ]

    @Test func flagsAloneAreEnough() throws {
        let o = try DaemonOptions.resolve(flags: Self.minimal, environment: [:], file: nil)
        #expect(o.agentID == "host-17")
        #expect(o.stateDirectory == DaemonOptions.defaultStateDirectory)
        #expect(o.heartbeatIntervalSeconds == 10)
        #expect(o.logFormat == "text")
    }

    @Test func precedenceIsFlagsThenEnvironmentThenFile() throws {
        let file: JSONValue = [
            "agent_id": "from-file", "master_endpoint": "tcp://file:1", "heartbeat_endpoint": "tcp://file:2",
            "master_key": "f.key", "key": "f.key_secret", "heartbeat_interval": 3, "state_dir": "/file",
        ]
        let env = ["DECNET_AGENT_ID": "from-env", "DECNET_STATE_DIR": "/env"]
        let o = try DaemonOptions.resolve(flags: ["agent-id": "from-flag"], environment: env, file: file)
        #expect(o.agentID == "from-flag")
        #expect(o.stateDirectory == "/env")
        #expect(o.masterEndpoint == "tcp://file:1")
        #expect(o.heartbeatIntervalSeconds == 3)
    }

    @Test(arguments: [
        (["agent-id": ".bad"], "agent id"),
        (["agent-id": "a b"], "agent id"),
        (["master-endpoint": "master:8771"], "master endpoint"),
        (["master-endpoint": "tcp://*:8771"], "master endpoint"),
        (["heartbeat-endpoint": "tcp://host:99999"], "heartbeat endpoint"),
        (["heartbeat-interval": "0"], "heartbeat interval"),
        (["heartbeat-interval": "soon"], "heartbeat interval"),
        (["log-format": "xml"], "log format"),
    ])
    func badSettingsAreOneClearLine(_ override: [String: String], _ mentions: String) {
        let flags = Self.minimal.merging(override) { _, new in new }
        #expect {
            try DaemonOptions.resolve(flags: flags, environment: [:], file: nil)
        } throws: { error in
            "\(error)".contains(mentions) && !"\(error)".contains("\n")
        }
    }

    @Test func missingSettingNamesAllThreeSources() {
        var flags = Self.minimal
        flags["key"] = nil
        #expect {
            try DaemonOptions.resolve(flags: flags, environment: [:], file: nil)
        } throws: { error in
            "\(error)".contains("--key") && "\(error)".contains("DECNET_KEY") && "\(error)".contains("\"key\"")
        }
    }

    @Test func unknownConfigFileSettingIsRefused() {
        #expect(throws: DaemonOptions.Problem.self) {
            try DaemonOptions.resolve(flags: Self.minimal, environment: [:], file: ["agent_idd": "x"])
        }
        #expect(throws: DaemonOptions.Problem.self) {
            try DaemonOptions.resolve(flags: Self.minimal, environment: [:], file: ["a", "b"])
        }
    }

    @Test func stateDirectoryIsCreatedPrivate() throws {
        let dir = NSTemporaryDirectory() + "state-\(UUID().uuidString)/nested"
        try DaemonOptions.prepareStateDirectory(dir)
        let mode = try FileManager.default.attributesOfItem(atPath: dir)[.posixPermissions] as? Int
        #expect(mode == 0o700)
        try? FileManager.default.removeItem(atPath: dir)
        #expect(throws: DaemonOptions.Problem.self) { try DaemonOptions.prepareStateDirectory("/proc/decnet-test") }
    }
}
