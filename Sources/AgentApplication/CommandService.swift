import AgentCore
import AgentTransport
import ServiceLifecycle

/// Command handling as a service: the dispatcher reads the link's messages until graceful shutdown, which cancels
/// it: it stops taking commands, and a running apply or teardown sees the cancellation, aborts at its next safe
/// point (or finishes), stores its result and sends it. Last in the group's list, so it is the first to stop.
final class CommandService: Service, CustomStringConvertible {
    let dispatcher: CommandDispatcher
    let connection: AgentLink
    let lifecycle: DaemonLifecycle
    let users: LinkUsers

    var description: String { "CommandDispatcher" }

    init(dispatcher: CommandDispatcher, connection: AgentLink, lifecycle: DaemonLifecycle, users: LinkUsers) {
        self.dispatcher = dispatcher
        self.connection = connection
        self.lifecycle = lifecycle
        self.users = users
    }

    func run() async {
        defer { users.finished() }
        let lifecycle = self.lifecycle
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown {
                await self.dispatcher.run(messages: self.connection.messages, frame: AgentLink.envelope(of:))
            }
        } onGracefulShutdown: {
            lifecycle.stopping("stopping: finishing the running operation, then closing the sockets")
        }
    }
}
