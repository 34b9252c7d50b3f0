import AgentCore
import AgentTransport
import Logging
import ServiceLifecycle

/// Gives idle code pages back to the kernel after each quiet spell (``ResidentMemoryTrim``), until shutdown.
final class TrimService: Service, CustomStringConvertible {
    let trim: ResidentMemoryTrim
    let dispatcher: CommandDispatcher
    let logger: Logger

    var description: String { "ResidentMemoryTrim" }

    init(trim: ResidentMemoryTrim, dispatcher: CommandDispatcher, logger: Logger) {
        self.trim = trim
        self.dispatcher = dispatcher
        self.logger = logger
    }

    func run() async {
        let dispatcher = self.dispatcher
        let logger = self.logger
        await cancelWhenGracefulShutdown {
            await self.trim.run(
                isBusy: { await dispatcher.running != nil },
                released: { logger.debug("released idle code pages", metadata: ["kib": "\($0)"]) }
            )
        }
    }
}
