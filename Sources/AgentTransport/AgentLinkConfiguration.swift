import AgentProtocol
import ZeroMQ

/// Where and how the agent dials its master (docs/wire-protocol.md#sockets, docs/wire-protocol.md#liveness).
public struct AgentLinkConfiguration: Sendable {
    public var agentID: String
    /// The master's command ROUTER, e.g. `tcp://master:8771`.
    public var commandEndpoint: String
    /// The master's heartbeat SUB, e.g. `tcp://master:8772`.
    public var heartbeatEndpoint: String
    /// The master's public key, pinned by every socket (`ZMQ_CURVE_SERVERKEY`).
    public var masterKey: CurveKey
    /// Where the trusted master keys are read again when a socket moves on to its next one (a folder of `.key`
    /// certificates, docs/security.md#master-key-rollover); `nil`: ``masterKey`` alone.
    public var trustedMasterKeys: TrustedMasterKeys?
    public var keys: CurveKeyPair
    /// Switches ``keys`` when the master rotates them (docs/security.md#key-rotation); `nil`: never.
    public var keyRotator: AgentKeyRotator?
    /// A one-time enrolment token, used when the master refuses this agent's key (docs/security.md#enrolment-tokens).
    public var enrolToken: EnrolmentToken?
    public var maxEnvelopeBytes: Int
    /// First reconnect delay in milliseconds, drawn per agent from ``defaultReconnectMillis`` so that a fleet
    /// notices a returning master within about a second without all dialling in the same millisecond. libzmq waits
    /// this delay plus up to as much again before the first attempt after a lost connection, and doubles it after
    /// every attempt the master refused, up to `reconnectMaxMillis`: short while the master restarts, backing off
    /// only while it stays away (docs/wire-protocol.md#liveness).
    public var reconnectMillis: Int32
    public var reconnectMaxMillis: Int32
    /// ZMTP heartbeats keep NAT mappings open and notice a dead master. The TTL (what the master is asked to wait
    /// before dropping a silent agent) is 0, none, by default: the master ends a dead agent's connection with TCP
    /// keepalive, which costs it nothing per message (docs/scaling.md#timers).
    public var zmtpHeartbeatIntervalMillis: Int32
    public var zmtpHeartbeatTimeoutMillis: Int32
    public var zmtpHeartbeatTTLMillis: Int32
    public var tcpKeepaliveIdleSeconds: Int32

    /// How many times less often the heartbeat socket PINGs than the command socket. Its own heartbeats keep it busy
    /// and its NAT mapping open, and each PING costs the master a message and an answer: at 10,000 agents, PINGs every
    /// 10 s on both sockets were twice as many messages as the heartbeats themselves (docs/scaling.md#pings).
    public static let heartbeatSocketPingFactor: Int64 = 6
    /// ZMTP PING interval of the heartbeat socket (60 s by default).
    public var heartbeatSocketZMTPIntervalMillis: Int32 {
        Int32(clamping: Int64(zmtpHeartbeatIntervalMillis) * Self.heartbeatSocketPingFactor)
    }
    /// ZMTP timeout of the heartbeat socket (180 s by default).
    public var heartbeatSocketZMTPTimeoutMillis: Int32 {
        Int32(clamping: Int64(zmtpHeartbeatTimeoutMillis) * Self.heartbeatSocketPingFactor)
    }
    /// `ZMQ_TCP_MAXRT` (`TCP_USER_TIMEOUT`) of the heartbeat socket: a heartbeat the master's host has not
    /// acknowledged after the command socket's ZMTP timeout (30 s by default) ends the connection, and libzmq dials
    /// again. This is how the heartbeat socket notices a master that is gone without answering, long before its PINGs
    /// would.
    public var heartbeatSocketTCPMaxRetransmitMillis: Int32 { zmtpHeartbeatTimeoutMillis }
    public var lingerMillis: Int32

    /// The range each agent draws its first reconnect delay from, in milliseconds.
    public static let defaultReconnectMillis: ClosedRange<Int32> = 200...1000

    public init(
        agentID: String,
        commandEndpoint: String,
        heartbeatEndpoint: String,
        masterKey: CurveKey,
        keys: CurveKeyPair,
        maxEnvelopeBytes: Int = WireProtocol.defaultMaxEnvelopeBytes,
        reconnectMillis: Int32 = Int32.random(in: AgentLinkConfiguration.defaultReconnectMillis),
        reconnectMaxMillis: Int32 = 60_000,
        zmtpHeartbeatIntervalMillis: Int32 = 10_000,
        zmtpHeartbeatTimeoutMillis: Int32 = 30_000,
        zmtpHeartbeatTTLMillis: Int32 = 0,
        tcpKeepaliveIdleSeconds: Int32 = 60,
        lingerMillis: Int32 = 1000
    ) {
        self.agentID = agentID
        self.commandEndpoint = commandEndpoint
        self.heartbeatEndpoint = heartbeatEndpoint
        self.masterKey = masterKey
        self.keys = keys
        self.maxEnvelopeBytes = maxEnvelopeBytes
        self.reconnectMillis = reconnectMillis
        self.reconnectMaxMillis = reconnectMaxMillis
        self.zmtpHeartbeatIntervalMillis = zmtpHeartbeatIntervalMillis
        self.zmtpHeartbeatTimeoutMillis = zmtpHeartbeatTimeoutMillis
        self.zmtpHeartbeatTTLMillis = zmtpHeartbeatTTLMillis
        self.tcpKeepaliveIdleSeconds = tcpKeepaliveIdleSeconds
        self.lingerMillis = lingerMillis
    }

    /// Checks an endpoint is `tcp://HOST:PORT` (the agent only dials out over TCP; `ipc://` is accepted for tests).
    public static func isValidEndpoint(_ endpoint: String) -> Bool {
        if endpoint.hasPrefix("ipc://") { return endpoint.count > 6 }
        guard endpoint.hasPrefix("tcp://") else { return false }
        let rest = endpoint.dropFirst(6)
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
            (1...65535).contains(port)
        else { return false }
        let host = rest[..<colon]
        return !host.isEmpty && !host.contains("/") && host != "*"
    }
}
