import AgentCore
import AgentStore
import AgentTransport
import Logging
import ServiceLifecycle
import UnixSignals

/// A built agent: its services, in the order the group starts them (it stops them in reverse), and what must be
/// closed once they all ended. `decnet-agent run` does `try await app.serviceGroup(...).run()`, then ``close()``.
public final class AgentApplication: Sendable {
    public static let capabilities = [
        "apply", "teardown", "state", "ping", "supersede", "progress", "drift", "events", "rotate_key",
    ]

    public let core: AgentCoreParts
    public let connection: AgentLink
    public let services: [ServiceGroupConfiguration.ServiceConfiguration]
    public let shutdown: ShutdownLimits
    let link: LinkService
    let onClose: @Sendable () async -> Void
    let logger: Logger

    init(
        core: AgentCoreParts,
        connection: AgentLink,
        link: LinkService,
        services: [ServiceGroupConfiguration.ServiceConfiguration],
        shutdown: ShutdownLimits,
        onClose: @escaping @Sendable () async -> Void,
        logger: Logger
    ) {
        self.core = core
        self.connection = connection
        self.link = link
        self.services = services
        self.shutdown = shutdown
        self.onClose = onClose
        self.logger = logger
    }

    /// The group that runs the agent, with the shutdown limits. `extra` services are appended to the list, so they
    /// start last and are the first told to stop (tests add one that misbehaves).
    public func serviceGroup(
        gracefulShutdownSignals: [UnixSignal] = [],
        extra: [ServiceGroupConfiguration.ServiceConfiguration] = []
    ) -> ServiceGroup {
        var configuration = ServiceGroupConfiguration(
            services: services + extra,
            gracefulShutdownSignals: gracefulShutdownSignals,
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = shutdown.graceful
        configuration.maximumCancellationDuration = shutdown.cancellation
        return ServiceGroup(configuration: configuration)
    }

    /// Runs the services until graceful shutdown (the caller's, e.g. `testGracefulShutdown`) or cancellation.
    public func run() async throws {
        try await serviceGroup().run()
    }

    /// The one cleanup path, after the group ended (or never ran): the sockets and the context if the link service
    /// did not close them, what the caller asked for (the Docker client), then the store.
    public func close() async {
        await link.close()
        await onClose()
        core.close()
    }
}
