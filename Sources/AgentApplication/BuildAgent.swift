import AgentCore
import AgentProtocol
import AgentStore
import AgentTransport
import DecnetJSON
import Logging
import ServiceLifecycle
import Topology
import ZeroMQ

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Builds the agent daemon over `runtime` (Docker's, or a test's in-memory one): opens the state directory (locked
/// and guarded) and its store, then everything ``buildAgent(configuration:core:observer:onClose:logger:)`` adds.
public func buildAgent(
    configuration: AgentConfiguration,
    runtime: any TopologyRuntime,
    observer: (@Sendable () async -> Void)? = nil,
    onClose: @escaping @Sendable () async -> Void = {},
    logger: Logger
) async throws -> AgentApplication {
    let core = try AgentCoreParts.open(
        settings: configuration.settings,
        runtime: runtime,
        preflight: configuration.preflight,
        locking: .guarded,
        logger: logger
    )
    do {
        return try await buildAgent(
            configuration: configuration,
            core: core,
            observer: observer,
            onClose: onClose,
            logger: logger
        )
    } catch {
        core.close()
        throw error
    }
}

/// Builds the agent daemon around `core`: creates the ZeroMQ context and the link (both sockets start dialling),
/// and the services that `AgentApplication.serviceGroup()` runs.
///
/// The list's order is the shutdown contract (a `ServiceGroup` starts services in order and, on graceful shutdown,
/// stops them one at a time in reverse, each after the previous one returned):
///
/// ```
///   start ─▶  link, observer, trim, heartbeats, liveness, dispatcher
///   stop  ◀─  dispatcher: stop taking commands; a running apply/teardown sees cancellation, aborts or finishes,
///             stores its result and sends it
///             liveness:   no more WATCHDOG=1 / STATUS=
///             heartbeats: a last heartbeat with the final state
///             trim, observer
///             link:       close the sockets within their linger, terminate the context
/// ```
/// So the link outlives the dispatcher's last result and the final heartbeat. On cancellation (the graceful limit
/// passed, or the caller cancelled) every service is cancelled at once, and the link still waits for the dispatcher
/// and the heartbeats to finish before it closes (`LinkUsers`).
///
/// Termination: the dispatcher returning by itself (its message stream ended) shuts the group down gracefully, so the
/// rest still stops in order; any other service returning early cancels the group (the default), except the
/// observer, which waits for its turn (`ObserverService`).
public func buildAgent(
    configuration: AgentConfiguration,
    core: AgentCoreParts,
    observer: (@Sendable () async -> Void)? = nil,
    onClose: @escaping @Sendable () async -> Void = {},
    logger: Logger
) async throws -> AgentApplication {
    let settings = configuration.settings
    let lifecycle = configuration.lifecycle
    let context = try ZMQContext()
    let connection: AgentLink
    do {
        connection = try await AgentLink.connect(context: context, configuration: configuration.link, logger: logger)
    } catch {
        await context.terminateOffPool()
        throw error
    }
    let operations = core.operations
    let changes = ChangeSignal()
    let trim = ResidentMemoryTrim()
    let dispatcher = CommandDispatcher(
        operations: operations,
        store: core.executor,
        settings: settings,
        decoder: RequestDecoder(maxEnvelopeBytes: configuration.link.maxEnvelopeBytes),
        logger: logger,
        onChange: {
            changes.fire()
            trim.poke()
        },
        send: { connection.send($0) }
    )
    let heartbeats = HeartbeatSource(
        settings: settings,
        operations: operations,
        dispatcher: dispatcher,
        changes: changes,
        clockMillis: { Int(Date().timeIntervalSince1970 * 1000) }
    )
    let users = LinkUsers(count: 2)  // the dispatcher and the heartbeats
    let link = LinkService(
        context: context,
        connection: connection,
        users: users,
        hello: {
            trim.poke()
            return Messages.hello(
                agentID: settings.agentID,
                agentVersion: settings.agentVersion,
                bootID: settings.bootID,
                capabilities: AgentApplication.capabilities,
                state: await operations.state()
            )
        },
        started: ["boot_id": "\(settings.bootID)", "state_dir": "\(settings.stateDirectory)"],
        logger: logger
    )
    typealias Entry = ServiceGroupConfiguration.ServiceConfiguration
    var services: [Entry] = [Entry(service: link)]
    if let observer {
        services.append(Entry(service: ObserverService(observe: observer, logger: logger)))
    }
    services.append(Entry(service: TrimService(trim: trim, dispatcher: dispatcher, logger: logger)))
    services.append(
        Entry(
            service: HeartbeatService(
                heartbeats: heartbeats,
                connection: connection,
                lifecycle: lifecycle,
                users: users,
                logger: logger
            )
        )
    )
    if let interval = lifecycle.interval {
        let endpoint = configuration.link.commandEndpoint
        services.append(
            Entry(
                service: LivenessService(
                    lifecycle: lifecycle,
                    interval: interval,
                    connection: connection,
                    dispatcher: dispatcher,
                    status: {
                        let running = await dispatcher.running.map { (id: $0.id, type: $0.type.rawValue) }
                        return AgentStatus.line(
                            link: connection.state,
                            endpoint: endpoint,
                            running: running,
                            state: await operations.agentState()
                        )
                    }
                )
            )
        )
    }
    services.append(
        Entry(
            service: CommandService(
                dispatcher: dispatcher,
                connection: connection,
                lifecycle: lifecycle,
                users: users
            ),
            successTerminationBehavior: .gracefullyShutdownGroup
        )
    )
    return AgentApplication(
        core: core,
        connection: connection,
        link: link,
        services: services,
        shutdown: configuration.shutdown,
        onClose: onClose,
        logger: logger
    )
}
