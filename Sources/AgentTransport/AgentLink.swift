import AgentCore
import AgentProtocol
import DecnetJSON
import Logging
import Synchronization
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
///
/// The DEALER sets no routing id: the master's ROUTER gives each connection a fresh one, and the master routes to
/// the connection of the latest `hello` (docs/wire-protocol.md#identity).
public final class AgentLink: Sendable {
    public let configuration: AgentLinkConfiguration
    let thread: SocketThread
    let dealer: SocketHandle
    let pub: SocketHandle
    let logger: Logger
    let commandSchedule: RedialSchedule
    let heartbeatSchedule: RedialSchedule
    /// The master key each socket pins next (docs/security.md#master-key-rollover).
    let commandKeys: MasterKeyRing
    let heartbeatKeys: MasterKeyRing
    /// What the connection watch and the redial schedules measure time on.
    let clock: any Clock<Duration>
    /// Set when the master said `revoked`; the connection watch then disconnects both sockets and backs off.
    let revocation = Mutex(false)
    /// What the command socket's monitor said last, for status lines.
    let linkState = Mutex(LinkState())
    /// Enrols this agent with a token when its key is refused (docs/security.md#enrolment-tokens); `nil`: no token.
    let enroller: AgentEnroller?

    /// Whether the command connection is up, and the last problem the link ran into.
    public struct LinkState: Sendable, Equatable {
        public var connected = false
        public var lastError: String?

        public init(connected: Bool = false, lastError: String? = nil) {
            self.connected = connected
            self.lastError = lastError
        }
    }

    /// The command connection's state now.
    public var state: LinkState { linkState.withLock { $0 } }

    /// Whether the socket thread answers: a round trip through it. False once it stopped.
    public func isResponsive() async -> Bool {
        (try? await dealer.perform { (_: ZMQSocket) throws(ZMQError) in true }) ?? false
    }

    private init(
        configuration: AgentLinkConfiguration,
        thread: SocketThread,
        dealer: SocketHandle,
        pub: SocketHandle,
        logger: Logger,
        clock: any Clock<Duration>
    ) {
        self.configuration = configuration
        self.clock = clock
        self.thread = thread
        self.dealer = dealer
        self.pub = pub
        self.logger = logger
        let schedule = {
            RedialSchedule(
                retryWindow: .milliseconds(Int(configuration.reconnectMillis) * 2 + 1000),
                firstDelay: .milliseconds(Int(configuration.reconnectMillis)),
                maxDelay: .milliseconds(Int(configuration.reconnectMaxMillis)),
                clock: clock
            )
        }
        self.commandSchedule = schedule()
        self.heartbeatSchedule = schedule()
        let source = configuration.trustedMasterKeys
        let ring = { MasterKeyRing(keys: [configuration.masterKey]) { try? source?.load() } }
        self.commandKeys = ring()
        self.heartbeatKeys = ring()
        self.enroller = configuration.enrolToken.map { AgentEnroller(token: $0) }
    }

    /// Creates the sockets and starts connecting (connecting never fails for a well-formed endpoint: libzmq retries).
    /// `clock` paces the connection watch and the redial back-off (tests inject a manual clock).
    public static func connect(
        context: ZMQContext,
        configuration c: AgentLinkConfiguration,
        logger: Logger,
        clock: any Clock<Duration> = ContinuousClock()
    ) async throws(ZMQError) -> AgentLink {
        let thread = try SocketThread(context: context, name: "decnet-agent-link")
        let common: @Sendable (ZMQSocket) throws(ZMQError) -> Void = { (s: ZMQSocket) throws(ZMQError) in
            try s.makeCurveClient(keys: c.keys, serverKey: c.masterKey)
            // Frames up to twice the envelope limit are received and answered with too_large; anything larger
            // makes libzmq drop the connection before it is in memory (the agent then reconnects).
            try s.setOption(.maxMsgSize, Int64(c.maxEnvelopeBytes) * 2 + Int64(ZMQSocket.curveMessageOverhead))
            try s.setOption(.reconnectIvl, c.reconnectMillis)
            try s.setOption(.reconnectIvlMax, c.reconnectMaxMillis)
            try s.setOption(.heartbeatTtl, c.zmtpHeartbeatTTLMillis)
            try s.setOption(.tcpKeepalive, 1)
            try s.setOption(.tcpKeepaliveIdle, c.tcpKeepaliveIdleSeconds)
        }
        do {
            let dealer = try await thread.open(
                SocketSetup(.dealer, linger: c.lingerMillis, monitored: true, queueWhenBlocked: false)
            ) { (s: ZMQSocket) throws(ZMQError) in
                try common(s)
                try s.setOption(.heartbeatIvl, c.zmtpHeartbeatIntervalMillis)
                try s.setOption(.heartbeatTimeout, c.zmtpHeartbeatTimeoutMillis)
                try s.setOption(.immediate, true)
                try s.connect(c.commandEndpoint)
            }
            let pub = try await thread.open(
                SocketSetup(.pub, linger: c.lingerMillis, monitored: true, queueWhenBlocked: false)
            ) { (s: ZMQSocket) throws(ZMQError) in
                try common(s)
                try s.setOption(.heartbeatIvl, c.heartbeatSocketZMTPIntervalMillis)
                try s.setOption(.heartbeatTimeout, c.heartbeatSocketZMTPTimeoutMillis)
                try s.setOption(.tcpMaxrt, c.heartbeatSocketTCPMaxRetransmitMillis)
                try s.connect(c.heartbeatEndpoint)
            }
            return AgentLink(
                configuration: c,
                thread: thread,
                dealer: dealer,
                pub: pub,
                logger: logger,
                clock: clock
            )
        } catch {
            await thread.shutdown()
            throw error
        }
    }

    /// Command messages from the master; the envelope is the last frame (`AgentLink.envelope(of:)`). A `revoked`
    /// notice is taken here and never reaches the dispatcher.
    public var messages: some AsyncSequence<ZMQMessage, Never> & Sendable {
        dealer.messages.filter { [self] message in !self.isRevocation(message) }
    }

    private static let revokedMarker = Array("\"revoked\"".utf8)

    /// Whether `message` is the master's `revoked` notice; if so, logs it and arms the back-off.
    private func isRevocation(_ message: ZMQMessage) -> Bool {
        let frame = Self.envelope(of: message)
        guard frame.count < 4096, frame.firstRange(of: Self.revokedMarker) != nil,
            case .object(let envelope)? = try? JSONParser.parse(frame),
            envelope["type"]?.stringValue == "revoked"
        else { return false }
        logger.error(
            "the master revoked this agent's key; backing off before dialling again",
            metadata: ["reason": "\(envelope["reason"]?.stringValue ?? "-")"]
        )
        revocation.withLock { $0 = true }
        linkState.withLock { $0 = LinkState(connected: false, lastError: "the master revoked this agent's key") }
        return true
    }

    public static func envelope(of message: ZMQMessage) -> [UInt8] { message.frames.last ?? [] }

    /// Sends an answer on the command socket, mirroring apply/teardown events to monitors on `ev.<agent_id>`.
    public func send(_ outbound: Outbound) {
        _ = dealer.send(ZMQMessage(frames: [outbound.frame]))
        if outbound.event {
            _ = pub.send(
                ZMQMessage(frames: [Array(WireProtocol.eventTopic(configuration.agentID).utf8), outbound.frame])
            )
        }
    }

    /// Publishes a heartbeat on `hb.<agent_id>`.
    public func publish(heartbeat: JSONValue) {
        _ = pub.send(
            ZMQMessage(frames: [
                Array(WireProtocol.heartbeatTopic(configuration.agentID).utf8), Messages.frame(heartbeat),
            ])
        )
    }

    /// Watches both connections and sends `hello` after every successful handshake on the command socket, until
    /// cancelled. Handshake failures (wrong master key, a key the master does not list) are logged: libzmq shows them
    /// only as monitor events. Either socket dials again by itself when libzmq would not (``RedialSchedule``).
    public func runConnectionWatch(hello: @escaping @Sendable () async -> JSONValue) async {
        let command = (
            socket: dealer, endpoint: configuration.commandEndpoint, schedule: commandSchedule, name: "command",
            keys: commandKeys
        )
        let heartbeat = (
            socket: pub, endpoint: configuration.heartbeatEndpoint, schedule: heartbeatSchedule, name: "heartbeat",
            keys: heartbeatKeys
        )
        let (enrolTrigger, enrolSink) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self, dealer, logger] in
                for await event in dealer.events {
                    if enroller?.shouldEnrol(after: event.kind) == true { enrolSink.yield() }
                    command.schedule.observe(event.kind)
                    command.keys.observe(event.kind)
                    // Before the hello below: a rotation commits its next key before the master can see it
                    // (docs/security.md#key-rotation).
                    configuration.keyRotator?.observe(event.kind)
                    switch event.kind {
                    case .handshakeSucceeded:
                        linkState.withLock { $0 = LinkState(connected: true, lastError: nil) }
                        logger.info("connected to master", metadata: ["endpoint": "\(event.endpoint)"])
                        let message = await hello()
                        _ = dealer.send(ZMQMessage(frames: [Messages.frame(message)]))
                    case .disconnected:
                        linkState.withLock { $0.connected = false }
                        logger.warning(
                            "master connection lost; reconnecting",
                            metadata: ["endpoint": "\(event.endpoint)"]
                        )
                    default:
                        if event.isHandshakeFailure {
                            linkState.withLock {
                                $0 = LinkState(
                                    connected: false,
                                    lastError:
                                        "handshake refused (wrong master key, or this agent's key is not allowed)"
                                )
                            }
                            logger.error(
                                "handshake with master failed (wrong master key, or this agent's key is not allowed); backing off",
                                metadata: ["endpoint": "\(event.endpoint)", "event": "\(event)"]
                            )
                        }
                    }
                }
            }
            if let enroller {
                group.addTask { [self, logger] in
                    for await _ in enrolTrigger {
                        let answer = await enroller.enrol(
                            thread: thread,
                            endpoint: command.endpoint,
                            masterKey: command.keys.current,
                            agentID: configuration.agentID,
                            agentKeys: configuration.keys,
                            logger: logger
                        )
                        guard answer?["type"]?.stringValue == "enrolled" else { continue }
                        // Admitted from the next handshake on: dial again now rather than after the back-off.
                        for side in [command, heartbeat] {
                            _ = try? await side.socket.perform { (s: ZMQSocket) throws(ZMQError) in
                                try? s.disconnect(side.endpoint)
                                try s.connect(side.endpoint)
                            }
                        }
                    }
                }
            }
            group.addTask { [pub, logger] in
                for await event in pub.events {
                    heartbeat.schedule.observe(event.kind)
                    heartbeat.keys.observe(event.kind)
                    if event.isHandshakeFailure {
                        logger.error("heartbeat socket handshake failed; backing off", metadata: ["event": "\(event)"])
                    }
                }
            }
            group.addTask { [self, logger, clock] in
                while !Task.isCancelled {
                    try? await clock.sleep(for: .milliseconds(250))
                    if revocation.withLock({ flag in
                        defer { flag = false }
                        return flag
                    }) {
                        for side in [command, heartbeat] {
                            side.schedule.refused()
                            _ = try? await side.socket.perform { (s: ZMQSocket) throws(ZMQError) in
                                try s.disconnect(side.endpoint)
                            }
                        }
                    }
                    if let pair = configuration.keyRotator?.pendingSwitch() {
                        // docs/security.md#key-rotation: both sockets dial again with the agent's other key.
                        logger.notice(
                            "dialling the master with another key of this agent",
                            metadata: ["fingerprint": "\(pair.publicKey.fingerprint)"]
                        )
                        for side in [command, heartbeat] {
                            _ = try? await side.socket.perform { (s: ZMQSocket) throws(ZMQError) in
                                try? s.disconnect(side.endpoint)
                                try s.makeCurveClient(keys: pair, serverKey: side.keys.current)
                                try s.connect(side.endpoint)
                            }
                        }
                    }
                    for side in [command, heartbeat] where side.schedule.isDue() {
                        let next = side.keys.advanceIfSuspect()
                        logger.notice(
                            "dialling the master again",
                            metadata: [
                                "socket": "\(side.name)", "endpoint": "\(side.endpoint)",
                                "master_key": "\(next.map { "next trusted key \($0.fingerprint)" } ?? "unchanged")",
                            ]
                        )
                        _ = try? await side.socket.perform { (s: ZMQSocket) throws(ZMQError) in
                            try? s.disconnect(side.endpoint)
                            if let next { try s.setOption(.curveServerKey, next) }
                            try s.connect(side.endpoint)
                        }
                    }
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
