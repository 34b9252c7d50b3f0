import AgentCore
import AgentProtocol
import AgentTransport
import DecnetJSON
import Logging
import ServiceLifecycle
import Synchronization
import ZeroMQ

/// The link to the master as a service: the connection watch (hello on every connection, re-dialling) until
/// shutdown, then, once the dispatcher and the heartbeats are done with it, the sockets closed within their linger
/// and the ZeroMQ context terminated. First in the group's list, so it is the last to stop.
final class LinkService: Service, CustomStringConvertible {
    let context: ZMQContext
    let connection: AgentLink
    let users: LinkUsers
    let hello: @Sendable () async -> JSONValue
    /// Said with "agent started" besides the endpoints.
    let started: Logger.Metadata
    let logger: Logger
    private let closed = Mutex(false)

    var description: String { "AgentLink" }

    init(
        context: ZMQContext,
        connection: AgentLink,
        users: LinkUsers,
        hello: @escaping @Sendable () async -> JSONValue,
        started: Logger.Metadata,
        logger: Logger
    ) {
        self.started = started
        self.context = context
        self.connection = connection
        self.users = users
        self.hello = hello
        self.logger = logger
    }

    func run() async {
        // What start-up ran (flags, the catalog, the store) will not run again: the peak stays lower.
        ResidentMemory.releaseCleanFilePages()
        let configuration = connection.configuration
        logger.info(
            "agent started",
            metadata: started.merging(
                [
                    "command_endpoint": "\(configuration.commandEndpoint)",
                    "heartbeat_endpoint": "\(configuration.heartbeatEndpoint)",
                ],
                uniquingKeysWith: { $1 }
            )
        )
        await cancelWhenGracefulShutdown {
            await self.connection.runConnectionWatch(hello: self.hello)
        }
        await users.allFinished()
        await close()
        logger.info("agent stopped")
    }

    /// Closes both sockets (bounded by their linger) and terminates the context; once, whoever calls it first (this
    /// service, or ``AgentApplication/close()`` when the group never ran).
    func close() async {
        let first = closed.withLock { flag -> Bool in
            defer { flag = true }
            return !flag
        }
        guard first else { return }
        await connection.shutdown()
        await context.terminateOffPool()
    }
}
