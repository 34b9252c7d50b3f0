import AgentCore
import AgentProtocol
import AgentStore
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

/// `decnet-agent run`: dials the master, answers commands, publishes heartbeats, until SIGTERM or SIGINT.
///
/// On graceful shutdown it stops taking commands, lets the running apply or teardown see cancellation (the runtime
/// aborts at its next safe point and the result is stored and sent), then closes the sockets within their linger.
/// It never reads the store to re-apply anything at start-up.
public final class AgentDaemon: Service {
    public static let capabilities = ["apply", "teardown", "state", "ping", "supersede", "progress", "drift", "events"]

    let settings: AgentSettings
    let link: AgentLinkConfiguration
    let store: TopologyStore
    let runtime: any TopologyRuntime
    /// Keeps the runtime's observation current (Docker's event stream) while the daemon runs.
    let runtimeService: @Sendable () async -> Void
    let preflight: PortPreflight
    let stateGuard: StateDirectoryGuard?
    let lifecycle: DaemonLifecycle
    let logger: Logger

    public init(
        settings: AgentSettings,
        link: AgentLinkConfiguration,
        store: TopologyStore,
        runtime: any TopologyRuntime,
        runtimeService: @escaping @Sendable () async -> Void = {},
        preflight: PortPreflight = PortPreflight(),
        stateGuard: StateDirectoryGuard? = nil,
        lifecycle: DaemonLifecycle = .none,
        logger: Logger
    ) {
        self.stateGuard = stateGuard
        self.lifecycle = lifecycle
        self.preflight = preflight
        self.settings = settings
        self.link = link
        self.store = store
        self.runtime = runtime
        self.runtimeService = runtimeService
        self.logger = logger
    }

    public func run() async throws {
        // What start-up ran (flags, the catalog, the store) will not run again: the peak stays lower.
        ResidentMemory.releaseCleanFilePages()
        let context = try ZMQContext()
        let connection = try await AgentLink.connect(context: context, configuration: link, logger: logger)
        let executor = StoreExecutor(store: store)
        let operations = TopologyOperations(
            settings: settings,
            store: executor,
            runtime: runtime,
            preflight: preflight,
            stateGuard: stateGuard,
            logger: logger
        )
        let changes = ChangeSignal()
        let trim = ResidentMemoryTrim()
        let dispatcher = CommandDispatcher(
            operations: operations,
            store: executor,
            settings: settings,
            decoder: RequestDecoder(maxEnvelopeBytes: link.maxEnvelopeBytes),
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
        let settings = self.settings
        let runtimeService = self.runtimeService
        let logger = self.logger
        let lifecycle = self.lifecycle
        let endpoint = link.commandEndpoint
        logger.info(
            "agent started",
            metadata: [
                "command_endpoint": "\(link.commandEndpoint)", "heartbeat_endpoint": "\(link.heartbeatEndpoint)",
                "boot_id": "\(settings.bootID)", "state_dir": "\(settings.stateDirectory)",
            ]
        )
        @Sendable func status() async -> String {
            let running = await dispatcher.running.map { (id: $0.id, type: $0.type.rawValue) }
            return AgentStatus.line(
                link: connection.state,
                endpoint: endpoint,
                running: running,
                state: await operations.state()
            )
        }

        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await runtimeService() }
                    if let interval = lifecycle.interval {
                        group.addTask {
                            // The store is open and the sockets dial; the first state waits for Docker's first list
                            // at most `answerWithin` (2 s), so Docker is observed or its error known.
                            lifecycle.ready(await status())
                            // The liveness loop: round trips through the socket thread and the dispatcher actor, so
                            // it stalls (and the watchdog fires) when either hangs.
                            while !Task.isCancelled {
                                if await connection.isResponsive() {
                                    _ = await dispatcher.running
                                    lifecycle.alive()
                                }
                                lifecycle.status(await status())
                                try? await Task.sleep(for: interval)
                            }
                        }
                    }
                    await Self.serve(
                        group: &group,
                        connection: connection,
                        dispatcher: dispatcher,
                        heartbeats: heartbeats,
                        trim: trim,
                        operations: operations,
                        settings: settings,
                        logger: logger
                    )
                }
            }
        } onGracefulShutdown: {
            lifecycle.stopping("stopping: finishing the running operation, then closing the sockets")
        }
        lifecycle.stopping("stopping: closing the sockets")
        logger.info("agent stopping")
        // A last heartbeat so monitors see the final state, then close within the linger bound.
        connection.publish(heartbeat: await heartbeats.next())
        await connection.shutdown()
        await context.terminateOffPool()
        logger.info("agent stopped")
    }

    /// The daemon's own tasks: trimming idle memory, the connection watch (hello on every connection), heartbeats,
    /// and the dispatcher, which ends on cancellation (graceful shutdown) after a running operation completes or
    /// aborts.
    private static func serve(
        group: inout TaskGroup<Void>,
        connection: AgentLink,
        dispatcher: CommandDispatcher,
        heartbeats: HeartbeatSource,
        trim: ResidentMemoryTrim,
        operations: TopologyOperations,
        settings: AgentSettings,
        logger: Logger
    ) async {
        group.addTask {
            await trim.run(
                isBusy: { await dispatcher.running != nil },
                released: { logger.debug("released idle code pages", metadata: ["kib": "\($0)"]) }
            )
        }
        group.addTask {
            await connection.runConnectionWatch {
                trim.poke()
                return Messages.hello(
                    agentID: settings.agentID,
                    agentVersion: settings.agentVersion,
                    bootID: settings.bootID,
                    capabilities: Self.capabilities,
                    state: await operations.state()
                )
            }
        }
        group.addTask { await heartbeats.run { connection.publish(heartbeat: $0) } }
        // Ends when cancelled (graceful shutdown); a running operation then completes or aborts first.
        await dispatcher.run(messages: connection.messages, frame: AgentLink.envelope(of:))
        group.cancelAll()
    }
}
