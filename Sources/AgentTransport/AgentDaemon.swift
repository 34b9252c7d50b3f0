import AgentCore
import AgentProtocol
import AgentStore
import DecnetJSON
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import ServiceLifecycle
import Topology
import ZeroMQ

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
    let logger: Logger

    public init(
        settings: AgentSettings, link: AgentLinkConfiguration, store: TopologyStore, runtime: any TopologyRuntime,
        runtimeService: @escaping @Sendable () async -> Void = {}, preflight: PortPreflight = PortPreflight(),
        stateGuard: StateDirectoryGuard? = nil, logger: Logger
    ) {
        self.stateGuard = stateGuard
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
            settings: settings, store: executor, runtime: runtime, preflight: preflight, stateGuard: stateGuard,
            logger: logger)
        let changes = ChangeSignal()
        let trim = IdleTrim()
        let dispatcher = CommandDispatcher(
            operations: operations, store: executor, settings: settings,
            decoder: RequestDecoder(maxEnvelopeBytes: link.maxEnvelopeBytes), logger: logger,
            onChange: {
                changes.fire()
                trim.poke()
            }, send: { connection.send($0) })
        let heartbeats = HeartbeatSource(
            settings: settings, operations: operations, dispatcher: dispatcher, changes: changes,
            clockMillis: { Int(Date().timeIntervalSince1970 * 1000) })
        let settings = self.settings
        let runtimeService = self.runtimeService
        let logger = self.logger
        logger.info("agent started", metadata: [
            "command_endpoint": "\(link.commandEndpoint)", "heartbeat_endpoint": "\(link.heartbeatEndpoint)",
            "boot_id": "\(settings.bootID)", "state_dir": "\(settings.stateDirectory)",
        ])

        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await runtimeService() }
                group.addTask {
                    await trim.run(
                        isBusy: { await dispatcher.running != nil },
                        released: { logger.debug("released idle code pages", metadata: ["kib": "\($0)"]) })
                }
                group.addTask {
                    await connection.runConnectionWatch {
                        trim.poke()
                        return Messages.hello(
                            agentID: settings.agentID, agentVersion: settings.agentVersion, bootID: settings.bootID,
                            capabilities: Self.capabilities, state: await operations.state())
                    }
                }
                group.addTask { await heartbeats.run { connection.publish(heartbeat: $0) } }
                // Ends when cancelled (graceful shutdown); a running operation then completes or aborts first.
                await dispatcher.run(messages: connection.messages, frame: AgentLink.envelope(of:))
                group.cancelAll()
            }
        }
        logger.info("agent stopping")
        // A last heartbeat so monitors see the final state, then close within the linger bound.
        connection.publish(heartbeat: await heartbeats.next())
        await connection.shutdown()
        await context.terminateOffPool()
        logger.info("agent stopped")
    }
}
