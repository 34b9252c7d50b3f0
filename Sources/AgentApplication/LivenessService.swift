import AgentCore
import AgentTransport
import ServiceLifecycle

/// The systemd side (only when someone listens): READY=1 with the first status, then a loop that round-trips
/// through the socket thread and the dispatcher actor before each WATCHDOG=1, so the watchdog fires when either
/// hangs, and keeps STATUS= current.
final class LivenessService: Service, CustomStringConvertible {
    let lifecycle: DaemonLifecycle
    let interval: Duration
    let connection: AgentLink
    let dispatcher: CommandDispatcher
    let status: @Sendable () async -> String

    var description: String { "Liveness" }

    init(
        lifecycle: DaemonLifecycle,
        interval: Duration,
        connection: AgentLink,
        dispatcher: CommandDispatcher,
        status: @escaping @Sendable () async -> String
    ) {
        self.lifecycle = lifecycle
        self.interval = interval
        self.connection = connection
        self.dispatcher = dispatcher
        self.status = status
    }

    func run() async {
        await cancelWhenGracefulShutdown {
            // The store is open and the sockets dial; the first state waits for Docker's first list at most
            // `answerWithin` (2 s), so Docker is observed or its error known.
            self.lifecycle.ready(await self.status())
            while !Task.isCancelled {
                if await self.connection.isResponsive() {
                    _ = await self.dispatcher.running
                    self.lifecycle.alive()
                }
                self.lifecycle.status(await self.status())
                try? await Task.sleep(for: self.interval)
            }
        }
    }
}
