import AgentProtocol
import DecnetJSON
import Foundation
import Logging
import MasterStore
import ServiceLifecycle
import Synchronization
import SystemFiles
import ZeroMQ

/// The master: authenticates agents (CURVE + ZAP allow-lists), drives them over the command ROUTER, keeps the fleet
/// view from their hellos and heartbeats, relays heartbeats and events to monitors, and serves the operator
/// control channel.
///
/// A `Service` for a `ServiceGroup`: ``run()`` serves until graceful shutdown, ``stop()`` or cancellation.
/// In-process users, such as end-to-end tests, use ``withRunning(_:logger:_:)``:
/// ```swift
/// try await MasterServer.withRunning(configuration) { master in
///     let endpoints = try await master.endpoints()
///     let result = try await master.perform(agentID: "host-17", request: ping, timeout: .seconds(10))
/// }
/// ```
public final class MasterServer: Service, Sendable {
    public let configuration: MasterConfiguration
    let logger: Logger
    let core: MasterCore
    private let state = Mutex(State())
    private let stopSignal: AsyncStream<Void>
    private let stopSink: AsyncStream<Void>.Continuation
    /// How long the task that books relayed heartbeats waits after a batch before taking the next: it wakes about 10
    /// times a second however many heartbeats arrive, and the fleet view lags the relay by at most this much (a
    /// tenth of the shortest heartbeat interval; the silence limit is three intervals).
    static let relayBookingPause = Duration.milliseconds(100)

    private struct State {
        var started = false
        var startResult: Result<MasterEndpoints, MasterError>?
        var readyWaiters: [CheckedContinuation<Result<MasterEndpoints, MasterError>, Never>] = []
    }

    public init(configuration: MasterConfiguration, logger: Logger = Logger(label: "decnet.master")) {
        self.configuration = configuration
        self.logger = logger
        // Until the sockets are open nobody can send anything; the real gate comes with them.
        let closedGate = InboundGate(
            maxMessageSize: configuration.maxMessageSize,
            agentIdentity: { _ in nil },
            isMonitor: { _ in false }
        )
        self.core = MasterCore(
            gate: closedGate,
            retryInterval: configuration.retryInterval,
            silence: configuration.silence,
            limits: configuration.limits,
            logger: logger,
            clock: configuration.clockMillis,
            wallClock: configuration.wallClockMillis,
            metrics: configuration.metrics
        )
        (stopSignal, stopSink) = AsyncStream.makeStream(of: Void.self)
    }

    /// Opens everything, serves until ``stop()``, graceful shutdown or cancellation, then closes everything
    /// (sockets linger at most ``MasterConfiguration/lingerMilliseconds``). Throws when it cannot start: the
    /// directory is locked, a key is missing, a ZAP handler does not run, a port is taken.
    public func run() async throws {
        let first = state.withLock { state -> Bool in
            defer { state.started = true }
            return !state.started
        }
        precondition(first, "MasterServer.run() may be called only once")
        let directory = MasterDirectory(configuration.directory, runPath: configuration.runDirectory)
        let lock: DirectoryLock
        let sockets: MasterSockets
        let store: MasterStore?
        var configuration = self.configuration
        let descriptors = DescriptorLimit.raise()
        configuration.limits.maxConnections = min(
            configuration.limits.maxConnections,
            max(16, descriptors.soft - configuration.limits.descriptorReserve)
        )
        logger.info(
            "descriptor limit",
            metadata: [
                "soft": "\(descriptors.soft)", "hard": "\(descriptors.hard)",
                "connection_cap": "\(configuration.limits.maxConnections)",
            ]
        )
        do throws(MasterError) {
            do {
                lock = try DirectoryLock(path: directory.lockPath, recordingPID: true)
            } catch .busy {
                throw MasterError(
                    .locked,
                    operation: "lock \(directory.lockPath)",
                    message: "another master serves this directory"
                )
            } catch {
                throw MasterError(.directory, operation: "lock \(directory.lockPath)", message: "\(error)")
            }
            let keys = try directory.loadMasterKeys()
            store = try await openStore(directory)
            sockets = try await MasterSockets.open(configuration, keys: keys, directory: directory, logger: logger)
        } catch {
            logger.error("master cannot start", metadata: ["error": "\(error)"])
            ready(.failure(error))
            throw error
        }
        let agents = sockets.agentsAllowList
        // swift-format-ignore: OnlyOneTrailingClosureArgument
        await core.attach(
            Self.outlets(sockets),
            gate: sockets.gate,
            isEnrolled: { agents.isAllowed(identity: $0) },
            allowListGeneration: { agents.generation },
            budgets: [sockets.commandBudget, sockets.heartbeatBudget],
            subscriptionGate: sockets.subscriptionGate,
            maxConnections: configuration.limits.maxConnections,
            allowListIssues: {
                sockets.agentsAllowList.statistics.issues.map { "agents/\($0)" }
                    + sockets.monitorsAllowList.statistics.issues.map { "monitors/\($0)" }
            },
            enrolmentStatistics: { sockets.enrolment.jsonValue }
        ) { sockets.zapStatistics }
        logger.info(
            "master serving",
            metadata: [
                "command": "\(sockets.endpoints.command)", "heartbeat": "\(sockets.endpoints.heartbeat)",
                "monitor": "\(sockets.endpoints.monitor)", "control": "\(sockets.endpoints.control ?? "-")",
            ]
        )
        ready(.success(sockets.endpoints))
        await withGracefulShutdownHandler {
            await serve(sockets)
        } onGracefulShutdown: {
            self.stop()
        }
        logger.info("master stopping")
        configuration.onStopping?()
        await core.shutdown()
        await sockets.close()
        store?.close()
        if sockets.control != nil { unlink(directory.controlPath) }
        withExtendedLifetime(lock) {}
        logger.info("master stopped")
    }

    /// Opens `RUN_DIR/master.db` and loads the desired state into the core (docs/control-channel.md#master-store).
    private func openStore(_ directory: MasterDirectory) async throws(MasterError) -> MasterStore? {
        guard configuration.keepsDesiredState else {
            try? await core.openDesiredState(store: nil, settings: configuration.reconcile)
            return nil
        }
        do {
            let store = try MasterStore(directory: directory.runPath, now: configuration.wallClockMillis())
            do {
                try await core.openDesiredState(store: store, settings: configuration.reconcile)
            } catch {
                store.close()
                throw error
            }
            return store
        } catch {
            throw MasterError(
                .directory,
                operation: "open \(directory.runPath)/\(MasterStore.fileName)",
                message: "\(error)"
            )
        }
    }

    /// Asks a running master to stop; ``run()`` then closes everything and returns.
    public func stop() {
        stopSink.finish()
    }

    /// The bound endpoints, once the master serves; throws the start-up error when it could not start.
    public func endpoints() async throws(MasterError) -> MasterEndpoints {
        let result = await withCheckedContinuation { continuation in
            let known = state.withLock { state -> Result<MasterEndpoints, MasterError>? in
                if let result = state.startResult { return result }
                state.readyWaiters.append(continuation)
                return nil
            }
            if let known { continuation.resume(returning: known) }
        }
        return try result.get()
    }

    private func ready(_ result: Result<MasterEndpoints, MasterError>) {
        let waiters = state.withLock { state in
            state.startResult = result
            defer { state.readyWaiters.removeAll() }
            return state.readyWaiters
        }
        for waiter in waiters { waiter.resume(returning: result) }
    }

    /// One task per inbound stream, plus the timer; all end when the stop signal comes or the task is cancelled.
    private func serve(_ sockets: MasterSockets) async {
        let core = self.core
        let tickInterval = configuration.tickInterval
        let tickClock = configuration.tickClock
        let tickObserver = configuration.tickObserver
        let stopSignal = self.stopSignal
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in sockets.router.messages {
                    await core.command(message)
                    sockets.commandBudget.release(message)
                }
            }
            group.addTask {
                // The relay has already sent what it admitted to the monitors; the actor books it in batches. A
                // pause after each batch lets the next one gather (docs/scaling.md#relay).
                for await _ in sockets.relay.queued {
                    let batch = sockets.relay.take()
                    await core.published(batch)
                    for judged in batch {
                        sockets.heartbeatBudget.release(userId: judged.origin.userId, bytes: judged.origin.byteCount)
                    }
                    try? await Task.sleep(for: Self.relayBookingPause)
                }
            }
            // Messages too large for the relay to judge on the socket thread come out of the SUB's stream.
            group.addTask { for await message in sockets.sub.messages { sockets.relay.judgeAside(message) } }
            if let control = sockets.control {
                group.addTask { for await message in control.messages { await core.control(message) } }
            }
            // Monitors send subscriptions on the XPUB; nothing to do with them but keep the stream drained.
            group.addTask { for await _ in sockets.xpub.messages {} }
            group.addTask { for await event in sockets.router.events { await core.socketEvent(event, role: .command) } }
            group.addTask { for await event in sockets.sub.events { await core.socketEvent(event, role: .heartbeat) } }
            group.addTask { for await event in sockets.xpub.events { await core.socketEvent(event, role: .monitor) } }
            group.addTask {
                while !Task.isCancelled {
                    try? await tickClock.sleep(for: tickInterval)
                    await core.tick()
                    if let tickObserver { tickObserver(await core.health()) }
                }
            }
            for await _ in stopSignal {}
            group.cancelAll()
        }
    }

    private static func outlets(_ sockets: MasterSockets) -> MasterOutlets {
        let router = sockets.router
        let control = sockets.control
        return MasterOutlets(
            toAgent: { routingId, frame in
                let result = try? await router.sendConfirmed(ZMQMessage(frames: [routingId, frame]))
                return result == .sent
            },
            toControl: { client, frame in
                guard let control else { return false }
                let result = try? await control.sendConfirmed(ZMQMessage(frames: [client, frame]))
                return result == .sent
            }
        )
    }
}
