import Logging
import ServiceLifecycle

/// Keeps the runtime's observation current (Docker's event stream: `DockerTopologyRuntime.run()`) until shutdown.
/// Should the observer return by itself, the agent goes on (answering from what it last saw) until it is told to
/// stop: a service may end only when its turn to stop comes.
final class ObserverService: Service, CustomStringConvertible {
    let observe: @Sendable () async -> Void
    let logger: Logger

    var description: String { "RuntimeObserver" }

    init(observe: @escaping @Sendable () async -> Void, logger: Logger) {
        self.observe = observe
        self.logger = logger
    }

    func run() async {
        await cancelWhenGracefulShutdown { await self.observe() }
        if !Task.isCancelled && !Task.isShuttingDownGracefully {
            logger.warning("the runtime observer ended; observation stays as last seen")
            try? await gracefulShutdown()
        }
    }
}
