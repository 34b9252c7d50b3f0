import AgentProtocol
import DecnetJSON
import Synchronization

/// Builds heartbeats: full snapshots with a sequence number that starts at 1 for each boot, so a monitor can see
/// gaps (PUB/SUB may drop messages, so a heartbeat is never a delta).
public final class HeartbeatSource: Sendable {
    let settings: AgentSettings
    let operations: TopologyOperations
    let dispatcher: CommandDispatcher
    let clockMillis: @Sendable () -> Int
    /// What the interval ticker sleeps on (tests inject a manual clock).
    let clock: any Clock<Duration>
    private let seq = Mutex(0)
    /// Fired after every change; the heartbeat then goes out at once.
    public let changes: ChangeSignal

    public init(
        settings: AgentSettings,
        operations: TopologyOperations,
        dispatcher: CommandDispatcher,
        changes: ChangeSignal = ChangeSignal(),
        clockMillis: @escaping @Sendable () -> Int,
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.settings = settings
        self.operations = operations
        self.dispatcher = dispatcher
        self.changes = changes
        self.clockMillis = clockMillis
        self.clock = clock
    }

    /// Asks for a heartbeat at once (after an apply or teardown starts or ends).
    public func changed() { changes.fire() }

    /// The next heartbeat message.
    public func next() async -> JSONValue {
        let n = seq.withLock { value -> Int in
            value += 1
            return value
        }
        let state = await operations.state()
        return Messages.heartbeat(
            agentID: settings.agentID,
            bootID: settings.bootID,
            seq: n,
            sentAtMillis: clockMillis(),
            intervalMillis: settings.heartbeatIntervalMillis,
            agentVersion: settings.agentVersion,
            running: await dispatcher.runningJSON,
            state: state
        )
    }

    /// Publishes one heartbeat at once, then every interval and after every change, until cancelled.
    public func run(publish: @Sendable (JSONValue) async -> Void) async {
        let interval = Duration.milliseconds(settings.heartbeatIntervalMillis)
        let signal = changes
        let clock = self.clock
        await withTaskGroup(of: Void.self) { group in
            // The ticker feeds the same stream as change signals, so one loop (one iterator) serves both.
            group.addTask {
                while !Task.isCancelled {
                    try? await clock.sleep(for: interval)
                    signal.fire()
                }
            }
            await publish(await next())
            for await _ in changes.stream {
                if Task.isCancelled { break }
                await publish(await next())
            }
            group.cancelAll()
        }
    }

    public func finish() { changes.finish() }
}
