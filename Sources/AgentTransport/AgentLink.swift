import AgentCore
import AgentProtocol
import DecnetJSON
import Logging
import ZeroMQ

/// The agent's two sockets to its master: a DEALER for commands and a PUB for heartbeats and events, both CURVE
/// clients pinning the master's key, owned by one `SocketThread`. The agent binds nothing (it works behind NAT).
///
/// ```
///   disconnected ──handshake succeeded──▶ connected: send hello, then answers flow
///        ▲                                   │
///        └────────── disconnected ◀──────────┘   (libzmq reconnects with the jittered interval)
/// ```
/// While disconnected, answers are dropped rather than queued (`ZMQ_IMMEDIATE`): a result is kept in the store and
/// the master gets it by retrying the request id, and `hello` stays the first thing on every connection.
public final class AgentLink: Sendable {
    public let configuration: AgentLinkConfiguration
    let thread: SocketThread
    let dealer: SocketHandle
    let pub: SocketHandle
    let logger: Logger

    private init(configuration: AgentLinkConfiguration, thread: SocketThread, dealer: SocketHandle, pub: SocketHandle, logger: Logger) {
        self.configuration = configuration
        self.thread = thread
        self.dealer = dealer
        self.pub = pub
        self.logger = logger
    }

    /// Creates the sockets and starts connecting (connecting never fails for a well-formed endpoint: libzmq retries).
    public static func connect(
        context: ZMQContext, configuration c: AgentLinkConfiguration, logger: Logger
    ) async throws(ZMQError) -> AgentLink {
        let thread = try SocketThread(context: context, name: "decnet-agent-link")
        let common: @Sendable (ZMQSocket) throws(ZMQError) -> Void = { (s: ZMQSocket) throws(ZMQError) in
            try s.makeCurveClient(keys: c.keys, serverKey: c.masterKey)
            // Frames up to twice the envelope limit are received and answered with too_large; anything larger
            // makes libzmq drop the connection before it is in memory (the agent then reconnects).
            try s.setOption(.maxMsgSize, Int64(c.maxEnvelopeBytes) * 2 + Int64(ZMQSocket.curveMessageOverhead))
            try s.setOption(.reconnectIvl, c.reconnectMillis)
            try s.setOption(.reconnectIvlMax, c.reconnectMaxMillis)
            try s.setOption(.heartbeatIvl, c.zmtpHeartbeatIntervalMillis)
            try s.setOption(.heartbeatTimeout, c.zmtpHeartbeatTimeoutMillis)
            try s.setOption(.heartbeatTtl, c.zmtpHeartbeatTTLMillis)
            try s.setOption(.tcpKeepalive, 1)
            try s.setOption(.tcpKeepaliveIdle, c.tcpKeepaliveIdleSeconds)
        }
        do {
            let dealer = try await thread.open(
                SocketSetup(.dealer, linger: c.lingerMillis, monitored: true, queueWhenBlocked: false)
            ) { (s: ZMQSocket) throws(ZMQError) in
                try common(s)
                try s.setOption(.routingId, Array(c.agentID.utf8))
                try s.setOption(.immediate, true)
                try s.connect(c.commandEndpoint)
            }
            let pub = try await thread.open(
                SocketSetup(.pub, linger: c.lingerMillis, monitored: true, queueWhenBlocked: false)
            ) { (s: ZMQSocket) throws(ZMQError) in
                try common(s)
                try s.connect(c.heartbeatEndpoint)
            }
            return AgentLink(configuration: c, thread: thread, dealer: dealer, pub: pub, logger: logger)
        } catch {
            await thread.shutdown()
            throw error
        }
    }

    /// Command messages from the master; the envelope is the last frame (`AgentLink.envelope(of:)`).
    public var messages: AsyncStream<ZMQMessage> { dealer.messages }

    public static func envelope(of message: ZMQMessage) -> [UInt8] { message.frames.last ?? [] }

    /// Sends an answer on the command socket, mirroring apply/teardown events to monitors on `ev.<agent_id>`.
    public func send(_ outbound: Outbound) {
        _ = dealer.send(ZMQMessage(frames: [outbound.frame]))
        if outbound.event {
            _ = pub.send(ZMQMessage(frames: [Array(WireProtocol.eventTopic(configuration.agentID).utf8), outbound.frame]))
        }
    }

    /// Publishes a heartbeat on `hb.<agent_id>`.
    public func publish(heartbeat: JSONValue) {
        _ = pub.send(ZMQMessage(frames: [
            Array(WireProtocol.heartbeatTopic(configuration.agentID).utf8), Messages.frame(heartbeat),
        ]))
    }

    /// Watches the command connection and sends `hello` after every successful handshake, until cancelled.
    /// Handshake failures (wrong master key, refused by the master's allow-list) are logged: libzmq shows them only as
    /// monitor events. A session that ended without libzmq scheduling a reconnect is re-dialled (see
    /// `ReconnectGuard`).
    public func runConnectionWatch(hello: @escaping @Sendable () async -> JSONValue) async {
        let guardian = ReconnectGuard(retryWindow: .milliseconds(Int(configuration.reconnectMillis) * 2 + 1000))
        let endpoint = configuration.commandEndpoint
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [dealer, logger] in
                for await event in dealer.events {
                    guardian.observe(event.kind)
                    switch event.kind {
                    case .handshakeSucceeded:
                        logger.info("connected to master", metadata: ["endpoint": "\(event.endpoint)"])
                        let message = await hello()
                        _ = dealer.send(ZMQMessage(frames: [Messages.frame(message)]))
                    case .disconnected:
                        logger.warning("master connection lost; reconnecting", metadata: ["endpoint": "\(event.endpoint)"])
                    default:
                        if event.isHandshakeFailure {
                            logger.error(
                                "handshake with master failed (wrong master key, or this agent's key is not allowed)",
                                metadata: ["endpoint": "\(event.endpoint)", "event": "\(event)"])
                        }
                    }
                }
            }
            group.addTask { [dealer, logger] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(500))
                    guard guardian.needsRedial() else { continue }
                    logger.warning("libzmq gave up on the master connection; dialling again", metadata: ["endpoint": "\(endpoint)"])
                    _ = try? await dealer.perform { (s: ZMQSocket) throws(ZMQError) in
                        try? s.disconnect(endpoint)
                        try s.connect(endpoint)
                    }
                }
            }
            group.addTask { [pub, logger] in
                for await event in pub.events where event.isHandshakeFailure {
                    logger.error("heartbeat socket handshake failed", metadata: ["event": "\(event)"])
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Closes both sockets (bounded by their linger) and stops the socket thread.
    public func shutdown() async {
        await dealer.close()
        await pub.close()
        await thread.shutdown()
    }
}
