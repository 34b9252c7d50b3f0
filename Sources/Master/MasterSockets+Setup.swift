import Foundation
import ZeroMQ

/// Undo steps for a start-up that fails half-way, run in reverse order.
struct Cleanup {
    private var steps: [@Sendable () async -> Void] = []
    private var armed = true

    mutating func add(_ step: @escaping @Sendable () async -> Void) { steps.append(step) }
    mutating func disarm() { armed = false }

    func run() async {
        guard armed else { return }
        for step in steps.reversed() { await step() }
    }
}

/// The options every CURVE server socket of the master gets before it binds.
struct ServerOptions: Sendable {
    let configuration: MasterConfiguration
    let keys: CurveKeyPair

    func apply(to socket: ZMQSocket) throws(ZMQError) {
        try socket.makeCurveServer(keys: keys, zapDomain: MasterSockets.zapDomain)
        try socket.setOption(.maxMsgSize, configuration.transportMaxMessageSize)
        if socket.type == .xpub {
            // A handful of monitors: their dead connections are found by ZMTP PINGs within 30 s.
            try socket.setOption(.heartbeatIvl, configuration.zmtpHeartbeatInterval)
            try socket.setOption(.heartbeatTimeout, configuration.zmtpHeartbeatTimeout)
            try socket.setOption(.heartbeatTtl, configuration.zmtpHeartbeatTTL)
        }
        try socket.setOption(.tcpKeepalive, 1)
        try socket.setOption(.tcpKeepaliveIdle, configuration.tcpKeepaliveIdle)
        try socket.setOption(.tcpKeepaliveIntvl, configuration.tcpKeepaliveInterval)
        try socket.setOption(.tcpKeepaliveCnt, configuration.tcpKeepaliveCount)
        // An unauthenticated peer that does not finish its handshake in time is dropped (docs/security.md).
        try socket.setOption(.handshakeIvl, configuration.limits.handshakeMillis)
        // libzmq's default queue of 100 overflows when a fleet reconnects at once (a master restart) or under a
        // connection flood; beyond it the kernel answers with SYN cookies for connections no one ever accepts.
        try socket.setOption(.backlog, configuration.limits.listenBacklog)
        switch socket.type {
        case .router: try socket.setOption(.routerMandatory, true)
        case .sub: try socket.setOption(.subscribe, [])
        case .xpub:
            // Monitors only send subscriptions. libzmq moves everything waiting in the inbound pipe into the XPUB's
            // own queue (and its trie of manual subscriptions) each time it processes commands, which it does once
            // per 100 messages received: a small pipe keeps that queue near 100 messages, so a monitor flooding
            // subscriptions is cut by the gate before libzmq has taken in more than a few hundred beyond the limit.
            try socket.setOption(.rcvhwm, 100)
        default: break
        }
    }
}

extension MasterSockets {
    /// The ZAP domain of every master socket (docs/wire-protocol.md#sockets).
    static let zapDomain = "decnet"

    static func context(_ cleanup: inout Cleanup) throws(MasterError) -> ZMQContext {
        do {
            let context = try ZMQContext()
            cleanup.add { await context.terminateOffPool() }
            return context
        } catch {
            throw MasterError(.socket, operation: "zmq context", message: error.message)
        }
    }

    static func allowList(
        _ path: String,
        _ configuration: MasterConfiguration
    ) throws(MasterError)
        -> AllowListAuthoriser
    {
        do {
            return try AllowListAuthoriser(
                directory: path,
                domain: zapDomain,
                rescanInterval: configuration.allowListRescan
            )
        } catch {
            throw MasterError(
                .zapHandler,
                operation: "allow-list \(path)",
                message: "cannot start the ZAP handler: \(error.message)"
            )
        }
    }

    /// Starts a ZAP handler and checks it really runs: the master refuses to go on otherwise.
    static func startZAP(
        _ context: ZMQContext,
        _ authoriser: any ZAPAuthoriser,
        folder: String,
        _ configuration: MasterConfiguration,
        _ cleanup: inout Cleanup
    ) async throws(MasterError) -> ZAPHandler {
        let handler: ZAPHandler
        do {
            handler = try ZAPHandler(context: context, authoriser: authoriser)
        } catch {
            throw MasterError(.zapHandler, operation: "ZAP handler", message: error.message)
        }
        cleanup.add { await handler.stop() }
        do {
            try await configuration.startZAPHandler(handler)
            try handler.requireRunning()
        } catch {
            throw MasterError(
                .zapHandler,
                operation: "ZAP handler for \(folder)",
                message: "refusing to start: CURVE without a running ZAP handler would admit any key (\(error.message))"
            )
        }
        guard context.hasZAPHandler else {
            throw MasterError(
                .zapHandler,
                operation: "ZAP handler for \(folder)",
                message: "refusing to start: no ZAP handler is bound in the master's context"
            )
        }
        return handler
    }

    static func thread(
        _ context: ZMQContext,
        _ name: String,
        _ cleanup: inout Cleanup
    ) throws(MasterError)
        -> SocketThread
    {
        do {
            let thread = try SocketThread(context: context, name: name)
            cleanup.add { await thread.shutdown() }
            return thread
        } catch {
            throw MasterError(.socket, operation: "socket thread \(name)", message: error.message)
        }
    }

    /// Opens a monitored CURVE server socket on `thread` (in `context` when not the thread's own) and binds it.
    static func bind(
        _ thread: SocketThread,
        _ type: SocketType,
        _ endpoint: String,
        _ options: ServerOptions,
        in context: ZMQContext? = nil,
        budget: InboundBudget? = nil,
        subscriptionGate: SubscriptionGate? = nil,
        inlineHandler: (any InlineHandler)? = nil
    ) async throws(MasterError) -> SocketHandle {
        let setup = SocketSetup(
            type,
            linger: options.configuration.lingerMilliseconds,
            monitored: true,
            inboundBudget: budget,
            subscriptionGate: subscriptionGate,
            inlineHandler: inlineHandler
        )
        do {
            return try await thread.open(setup, in: context) { socket throws(ZMQError) in
                try options.apply(to: socket)
                try socket.bind(endpoint)
            }
        } catch {
            throw MasterError(.socket, operation: "bind \(type) \(endpoint)", message: error.message)
        }
    }

    /// The control channel: a plain ROUTER on `ipc://DIR/control.ipc`, created under umask 0077 and then set to
    /// mode 0600, so only the master's user can connect (the directory lock keeps a second master away).
    static func openControl(
        _ thread: SocketThread,
        _ directory: MasterDirectory,
        linger: Int32
    ) async throws(MasterError) -> SocketHandle {
        let endpoint = directory.controlEndpoint
        let path = directory.controlPath
        let setup = SocketSetup(.router, linger: min(linger, 500))
        let handle: SocketHandle
        do {
            handle = try await thread.open(setup) { socket throws(ZMQError) in
                try socket.setOption(.routerMandatory, true)
                let previous = umask(0o077)
                defer { umask(previous) }
                try socket.bind(endpoint)
            }
        } catch {
            throw MasterError(.socket, operation: "bind \(endpoint)", message: error.message)
        }
        guard chmod(path, 0o600) == 0 else {
            let text = String(cString: strerror(errno))
            await handle.close()
            throw MasterError(.socket, operation: "chmod \(path)", message: text)
        }
        return handle
    }
}
