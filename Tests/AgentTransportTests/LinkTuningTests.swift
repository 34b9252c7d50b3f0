import Logging
import Testing
import ZeroMQ

@testable import AgentTransport

/// The advanced `DECNET_*_MS` variables that let the partition test shorten the agent's link timers.
struct LinkTuningTests {
    static func configuration() throws -> AgentLinkConfiguration {
        let keys = try CurveKeyPair.generate()
        return AgentLinkConfiguration(
            agentID: "a1",
            commandEndpoint: "tcp://127.0.0.1:8771",
            heartbeatEndpoint: "tcp://127.0.0.1:8772",
            masterKey: keys.publicKey,
            keys: keys
        )
    }

    @Test func unsetAndEmptyVariablesKeepTheProtocolDefaults() throws {
        var link = try Self.configuration()
        let reconnect = link.reconnectMillis
        try link.applyTuning(environment: ["DECNET_ZMTP_HEARTBEAT_IVL_MS": "", "PATH": "/usr/bin"])
        #expect(link.zmtpHeartbeatIntervalMillis == 10_000)
        #expect(link.zmtpHeartbeatTimeoutMillis == 30_000)
        #expect(link.zmtpHeartbeatTTLMillis == 0)
        #expect(link.heartbeatSocketZMTPIntervalMillis == 60_000)
        #expect(link.heartbeatSocketZMTPTimeoutMillis == 180_000)
        #expect(link.heartbeatSocketTCPMaxRetransmitMillis == 30_000)
        #expect((200...1000).contains(link.reconnectMillis) && link.reconnectMillis == reconnect)
        #expect(link.reconnectMaxMillis == 60_000)
    }

    @Test func everyVariableSetsItsTimer() throws {
        var link = try Self.configuration()
        try link.applyTuning(environment: [
            "DECNET_ZMTP_HEARTBEAT_IVL_MS": "500", "DECNET_ZMTP_HEARTBEAT_TIMEOUT_MS": "2000",
            "DECNET_ZMTP_HEARTBEAT_TTL_MS": "3000", "DECNET_RECONNECT_IVL_MS": "250",
            "DECNET_RECONNECT_IVL_MAX_MS": "900",
        ])
        #expect(link.zmtpHeartbeatIntervalMillis == 500)
        #expect(link.zmtpHeartbeatTimeoutMillis == 2000)
        #expect(link.zmtpHeartbeatTTLMillis == 3000)
        // The heartbeat socket follows the command socket's timers.
        #expect(link.heartbeatSocketZMTPIntervalMillis == 3000)
        #expect(link.heartbeatSocketZMTPTimeoutMillis == 12_000)
        #expect(link.heartbeatSocketTCPMaxRetransmitMillis == 2000)
        #expect(link.reconnectMillis == 250)
        #expect(link.reconnectMaxMillis == 900)
    }

    /// The timers reach libzmq: read back from the link's two sockets (dialling a port where nothing listens).
    @Test func theSocketsCarryTheirOwnTimers() async throws {
        var configuration = try Self.configuration()
        configuration.commandEndpoint = "tcp://127.0.0.1:9"
        configuration.heartbeatEndpoint = "tcp://127.0.0.1:9"
        configuration.lingerMillis = 0
        let context = try ZMQContext()
        let link = try await AgentLink.connect(
            context: context,
            configuration: configuration,
            logger: Logger(label: "test")
        )
        func timers(_ handle: SocketHandle) async throws -> [Int32] {
            try await handle.perform { socket throws(ZMQError) in
                [
                    try socket.option(.heartbeatIvl), try socket.option(.heartbeatTimeout),
                    try socket.option(.heartbeatTtl), try socket.option(.tcpMaxrt),
                ]
            }
        }
        let dealer = try await timers(link.dealer)
        let pub = try await timers(link.pub)
        await link.shutdown()
        await context.terminateOffPool()
        #expect(dealer == [10_000, 30_000, 0, 0])
        #expect(pub == [60_000, 180_000, 0, 30_000])
    }

    @Test func aReconnectAboveTheCeilingRaisesTheCeiling() throws {
        var link = try Self.configuration()
        try link.applyTuning(environment: ["DECNET_RECONNECT_IVL_MS": "90000"])
        #expect(link.reconnectMillis == 90_000)
        #expect(link.reconnectMaxMillis == 90_000)
    }

    @Test(arguments: [
        ("DECNET_ZMTP_HEARTBEAT_IVL_MS", "10s"), ("DECNET_ZMTP_HEARTBEAT_TIMEOUT_MS", "99"),
        ("DECNET_ZMTP_HEARTBEAT_TTL_MS", "-1"), ("DECNET_RECONNECT_IVL_MS", "1.5"),
        ("DECNET_RECONNECT_IVL_MAX_MS", "3600001"),
    ])
    func badValuesAreRefusedByName(variable: String, value: String) throws {
        var link = try Self.configuration()
        let problem = #expect(throws: AgentLinkConfiguration.TuningProblem.self) {
            try link.applyTuning(environment: [variable: value])
        }
        #expect(problem?.description.hasPrefix("\(variable) '\(value)'") == true, "\(String(describing: problem))")
    }
}
