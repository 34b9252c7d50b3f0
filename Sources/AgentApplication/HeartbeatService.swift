import AgentCore
import AgentTransport
import Logging
import ServiceLifecycle

/// Heartbeats as a service: one at once, then every interval and after every change; on shutdown (after the
/// dispatcher stopped, so its last result is already sent) a last one, so monitors see the final state.
final class HeartbeatService: Service, CustomStringConvertible {
    let heartbeats: HeartbeatSource
    let connection: AgentLink
    let lifecycle: DaemonLifecycle
    let users: LinkUsers
    let logger: Logger

    var description: String { "HeartbeatSource" }

    init(
        heartbeats: HeartbeatSource,
        connection: AgentLink,
        lifecycle: DaemonLifecycle,
        users: LinkUsers,
        logger: Logger
    ) {
        self.heartbeats = heartbeats
        self.connection = connection
        self.lifecycle = lifecycle
        self.users = users
        self.logger = logger
    }

    func run() async {
        defer { users.finished() }
        let connection = self.connection
        await cancelWhenGracefulShutdown {
            await self.heartbeats.run { connection.publish(heartbeat: $0) }
        }
        lifecycle.stopping("stopping: closing the sockets")
        logger.info("agent stopping")
        connection.publish(heartbeat: await heartbeats.next())
    }
}
