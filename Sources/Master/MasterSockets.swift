import Foundation
import Logging
import ZeroMQ

/// Everything a running master owns at the ZeroMQ level, opened in order and closed in reverse:
/// two contexts (agents, monitors), each with its ZAP handler over its own allow-list, one socket thread, and
/// the sockets. Agents and monitors live in separate contexts because a context has exactly one ZAP handler: this
/// way a monitor key cannot even complete a handshake on the command or heartbeat socket, and an agent key cannot
/// subscribe to the relay. The one socket thread serves the sockets of both contexts, so that the heartbeat SUB's
/// ``HeartbeatRelay`` hands each admitted heartbeat to the monitors' XPUB on the spot (docs/scaling.md#relay).
final class MasterSockets: Sendable {
    let agentContext: ZMQContext
    let monitorContext: ZMQContext
    let agentsAllowList: AllowListAuthoriser
    let monitorsAllowList: AllowListAuthoriser
    /// Decides for the agents' context: the allow-list, then rejected and pending keys (docs/security.md#enrolment).
    let enrolment: EnrolmentAuthoriser
    let agentsZAP: ZAPHandler
    let monitorsZAP: ZAPHandler
    let socketThread: SocketThread
    let router: SocketHandle
    let sub: SocketHandle
    let xpub: SocketHandle
    let subscriptionGate: SubscriptionGate
    /// The identity checks for every inbound message, over the allow-lists above.
    let gate: InboundGate
    let relay: HeartbeatRelay
    let control: SocketHandle?
    let endpoints: MasterEndpoints
    /// What the command and heartbeat sockets may hold unhandled (``InboundBudget``).
    let commandBudget: InboundBudget
    let heartbeatBudget: InboundBudget

    private init(
        agentContext: ZMQContext,
        monitorContext: ZMQContext,
        agentsAllowList: AllowListAuthoriser,
        monitorsAllowList: AllowListAuthoriser,
        enrolment: EnrolmentAuthoriser,
        agentsZAP: ZAPHandler,
        monitorsZAP: ZAPHandler,
        socketThread: SocketThread,
        router: SocketHandle,
        sub: SocketHandle,
        xpub: SocketHandle,
        subscriptionGate: SubscriptionGate,
        gate: InboundGate,
        relay: HeartbeatRelay,
        control: SocketHandle?,
        endpoints: MasterEndpoints,
        commandBudget: InboundBudget,
        heartbeatBudget: InboundBudget
    ) {
        self.agentContext = agentContext
        self.monitorContext = monitorContext
        self.agentsAllowList = agentsAllowList
        self.monitorsAllowList = monitorsAllowList
        self.enrolment = enrolment
        self.agentsZAP = agentsZAP
        self.monitorsZAP = monitorsZAP
        self.socketThread = socketThread
        self.router = router
        self.sub = sub
        self.xpub = xpub
        self.subscriptionGate = subscriptionGate
        self.gate = gate
        self.relay = relay
        self.control = control
        self.endpoints = endpoints
        self.commandBudget = commandBudget
        self.heartbeatBudget = heartbeatBudget
    }

    /// Opens everything; on any failure closes what was opened and throws. The ZAP handlers start first, and no
    /// CURVE server is created unless both are running.
    static func open(
        _ configuration: MasterConfiguration,
        keys: CurveKeyPair,
        directory: MasterDirectory,
        logger: Logger
    ) async throws(MasterError) -> MasterSockets {
        var cleanup = Cleanup()
        do throws(MasterError) {
            let agentContext = try context(&cleanup)
            let monitorContext = try context(&cleanup)
            let agentsAllowList = try allowList(directory.agentsPath, configuration)
            let monitorsAllowList = try allowList(directory.monitorsPath, configuration)
            let rejected = KeyFolder(directory: directory.rejectedPath, clock: configuration.clockMillis)
            let enrolment = EnrolmentAuthoriser(
                allowList: agentsAllowList,
                rejected: rejected,
                pending: try PendingKeys(
                    directory: directory.pendingPath,
                    clock: configuration.clockMillis,
                    wallClock: configuration.wallClockMillis
                ),
                tokenEnrolment: TokenEnrolment(
                    directory: directory,
                    tokens: EnrolmentTokens(directory: directory.tokensPath, wallClock: configuration.wallClockMillis),
                    rejected: rejected,
                    masterKeys: keys
                ),
                logger: logger,
                clock: configuration.clockMillis
            )
            let agentsZAP = try await startZAP(
                agentContext,
                enrolment,
                folder: directory.agentsPath,
                configuration,
                &cleanup
            )
            let monitorsZAP = try await startZAP(
                monitorContext,
                monitorsAllowList,
                folder: directory.monitorsPath,
                configuration,
                &cleanup
            )
            let socketThread = try thread(agentContext, "master-sockets", &cleanup)
            let options = ServerOptions(configuration: configuration, keys: keys)
            let limits = configuration.limits
            let commandBudget = InboundBudget(
                perPeerBytes: max(limits.perPeerBudgetBytes, configuration.maxMessageSize),
                totalBytes: max(limits.totalBudgetBytes, limits.perPeerBudgetBytes, configuration.maxMessageSize)
            )
            let heartbeatBudget = InboundBudget(
                perPeerBytes: commandBudget.perPeerBytes,
                totalBytes: commandBudget.totalBytes
            )
            let subscriptionGate = SubscriptionGate(
                perKeyLimit: limits.subscriptionsPerMonitor,
                maxTopicBytes: limits.maxTopicBytes
            )
            let xpub = try await bind(
                socketThread,
                .xpub,
                configuration.endpoint(port: configuration.monitorPort),
                options,
                in: monitorContext,
                subscriptionGate: subscriptionGate
            )
            let gate = InboundGate(
                maxMessageSize: configuration.maxMessageSize,
                agentIdentity: { agentsAllowList.identity(forUserId: $0) },
                isMonitor: { monitorsAllowList.identity(forUserId: $0) != nil },
                tokenEnrolment: enrolment.tokenEnrolment
            )
            let relay = HeartbeatRelay(gate: gate, monitors: xpub, clock: configuration.clockMillis)
            let router = try await bind(
                socketThread,
                .router,
                configuration.endpoint(port: configuration.commandPort),
                options,
                budget: commandBudget
            )
            let sub = try await bind(
                socketThread,
                .sub,
                configuration.endpoint(port: configuration.heartbeatPort),
                options,
                budget: heartbeatBudget,
                inlineHandler: relay
            )
            var control: SocketHandle?
            if configuration.controlChannel {
                control = try await openControl(socketThread, directory, linger: configuration.lingerMilliseconds)
            }
            let endpoints = MasterEndpoints(
                command: try await resolved(router),
                heartbeat: try await resolved(sub),
                monitor: try await resolved(xpub),
                control: control == nil ? nil : directory.controlEndpoint
            )
            cleanup.disarm()
            return MasterSockets(
                agentContext: agentContext,
                monitorContext: monitorContext,
                agentsAllowList: agentsAllowList,
                monitorsAllowList: monitorsAllowList,
                enrolment: enrolment,
                agentsZAP: agentsZAP,
                monitorsZAP: monitorsZAP,
                socketThread: socketThread,
                router: router,
                sub: sub,
                xpub: xpub,
                subscriptionGate: subscriptionGate,
                gate: gate,
                relay: relay,
                control: control,
                endpoints: endpoints,
                commandBudget: commandBudget,
                heartbeatBudget: heartbeatBudget
            )
        } catch {
            await cleanup.run()
            throw error
        }
    }

    private static func resolved(_ handle: SocketHandle) async throws(MasterError) -> String {
        do {
            return try await handle.lastEndpoint()
        } catch {
            throw MasterError(.socket, operation: "last endpoint", message: error.message)
        }
    }

    /// Closes the sockets (queued sends get their linger), stops the ZAP handlers after the servers are gone,
    /// and terminates the contexts off the cooperative pool.
    func close() async {
        await socketThread.shutdown()
        relay.finish()
        await agentsZAP.stop()
        await monitorsZAP.stop()
        await agentContext.terminateOffPool()
        await monitorContext.terminateOffPool()
    }

    var zapStatistics: (agents: ZAPHandler.Statistics?, monitors: ZAPHandler.Statistics?) {
        (agentsZAP.statistics, monitorsZAP.statistics)
    }
}
