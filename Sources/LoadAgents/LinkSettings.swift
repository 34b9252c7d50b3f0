import ZeroMQ

/// Where the simulated agents dial and with which timers: by default the real agent's (`AgentLinkConfiguration`):
/// reconnect after a random 200 to 1000 ms backing off to 60 s, ZMTP heartbeats 10/30 s without a TTL on the command
/// socket and 60/180 s on the heartbeat socket, TCP keepalive.
struct LinkSettings: Sendable {
    var commandEndpoint: String
    var heartbeatEndpoint: String
    var monitorEndpoint: String
    var masterKey: CurveKey
    var reconnectMillis: ClosedRange<Int32> = 200...1000
    var reconnectMaxMillis: Int32 = 60_000
    var zmtpHeartbeatMillis: (interval: Int32, timeout: Int32, ttl: Int32) = (10_000, 30_000, 0)
    /// The heartbeat socket's: PINGs 6 times less often, and `ZMQ_TCP_MAXRT` of the command socket's ZMTP timeout
    /// (`AgentLinkConfiguration.heartbeatSocketZMTPIntervalMillis` and the rest).
    var heartbeatSocketZMTPMillis: (interval: Int32, timeout: Int32, maxRetransmit: Int32) = (60_000, 180_000, 30_000)
    /// `ZMQ_SNDHWM` of each heartbeat socket: a heartbeat a second never comes near libzmq's default of 1000.
    var sendHighWaterMark: Int32 = 1000

    /// The heartbeat and monitor endpoints that go with a command endpoint `tcp://HOST:PORT` in the wire protocol's
    /// default layout (PORT + 1, PORT + 2, as 8771/8772/8773); `nil` for anything else.
    static func defaultSiblings(of command: String) -> (heartbeat: String, monitor: String)? {
        guard command.hasPrefix("tcp://"), let colon = command.lastIndex(of: ":"),
            let port = Int(command[command.index(after: colon)...]), (1...65533).contains(port)
        else { return nil }
        let base = command[..<colon]
        return ("\(base):\(port + 1)", "\(base):\(port + 2)")
    }
}
