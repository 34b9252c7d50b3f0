import DecnetJSON
import Foundation
import Logging
import Master
import TestSupport
import ZeroMQ

/// A master directory with keys for two agents (`agent-a`, `agent-b`) and a monitor, and a running master on
/// ephemeral loopback ports with a short retry interval.
struct MasterHarness: Sendable {
    let directory: TemporaryDirectory
    let masterKeys: CurveKeyPair
    let agentKeys: [String: CurveKeyPair]
    let monitorKeys: CurveKeyPair

    static let agents = ["agent-a", "agent-b"]

    init() throws {
        directory = try TemporaryDirectory()
        let master = try KeyGenerator.generate(directory: directory.path, name: "master", role: .master)
        masterKeys = master.keyPair!
        var keys: [String: CurveKeyPair] = [:]
        for agent in Self.agents {
            let certificate = try KeyGenerator.generate(directory: directory.file("agents"), name: agent, role: .agent)
            keys[agent] = certificate.keyPair!
        }
        agentKeys = keys
        monitorKeys = try KeyGenerator.generate(directory: directory.file("monitors"), name: "ops", role: .monitor)
            .keyPair!
    }

    func configuration(retry: Duration = .seconds(1)) -> MasterConfiguration {
        var configuration = MasterConfiguration(directory: directory.path)
        configuration.bindHost = "127.0.0.1"
        configuration.commandPort = 0
        configuration.heartbeatPort = 0
        configuration.monitorPort = 0
        configuration.lingerMilliseconds = 0
        configuration.retryInterval = retry
        configuration.tickInterval = .milliseconds(50)
        configuration.allowListRescan = .milliseconds(200)
        configuration.maxMessageSize = 64 * 1024
        return configuration
    }

    static var logger: Logger {
        var logger = Logger(label: "test.master")
        logger.logLevel = .critical
        return logger
    }

    /// Runs a master with `configuration` for the duration of `body`, cleaning the directory afterwards.
    func run(
        _ configuration: MasterConfiguration? = nil,
        _ body: @Sendable (MasterServer, MasterEndpoints) async throws -> Void
    ) async throws {
        defer { directory.remove() }
        try await MasterServer.withRunning(configuration ?? self.configuration(), logger: Self.logger) { master in
            try await body(master, try await master.endpoints())
        }
    }

    func agent(
        _ id: String,
        keys: CurveKeyPair? = nil,
        routingID: String? = nil,
        endpoints: MasterEndpoints,
        masterKey: CurveKey? = nil,
        plain: Bool = false,
        publish: Bool = true
    ) async throws -> SimulatedAgent {
        try await SimulatedAgent(
            agentID: id,
            keys: keys ?? agentKeys[id]!,
            masterKey: masterKey ?? masterKeys.publicKey,
            endpoints: endpoints,
            routingID: routingID,
            plain: plain,
            publish: publish
        )
    }

    /// A monitor: a CURVE SUB subscribed to everything on the relay, in a context of its own.
    func monitor(endpoints: MasterEndpoints, keys: CurveKeyPair? = nil) async throws -> MonitorClient {
        try await MonitorClient(keys: keys ?? monitorKeys, masterKey: masterKeys.publicKey, endpoint: endpoints.monitor)
    }
}

/// A monitor subscribed to the master's relay.
final class MonitorClient: Sendable {
    let context: ZMQContext
    let thread: SocketThread
    let sub: SocketHandle
    let received: Recorder<ZMQMessage>
    let events: Recorder<SocketEvent>

    init(keys: CurveKeyPair, masterKey: CurveKey, endpoint: String) async throws {
        context = try ZMQContext()
        thread = try SocketThread(context: context, name: "sim-monitor")
        sub = try await thread.open(.sub, linger: 0, monitored: true) { socket throws(ZMQError) in
            try socket.makeCurveClient(keys: keys, serverKey: masterKey)
            try socket.setOption(.subscribe, [])
            try socket.setOption(.reconnectIvl, 100)
            try socket.connect(endpoint)
        }
        received = Recorder(sub.messages)
        events = Recorder(sub.events)
    }

    func waitUntilSubscribed() async throws {
        guard await events.first(where: { $0.kind == .handshakeSucceeded }) != nil else {
            throw TimedOut(what: "monitor handshake")
        }
        try await Task.sleep(for: .milliseconds(300))
    }

    func close() async {
        await thread.shutdown()
        await context.terminateOffPool()
    }
}

/// The master's timers on a manual clock: ``MasterConfiguration/clockMillis`` reads it and the timer loop sleeps on
/// it (1 ms ticks, so every advance runs one tick), and every tick is reported, so a test knows when the master
/// looked at its timers and at what time.
struct ManualTicks: Sendable {
    let clock = ManualClock()
    let ticks: AsyncStream<MasterHealth>
    private let sink: AsyncStream<MasterHealth>.Continuation

    init() {
        (ticks, sink) = AsyncStream.makeStream()
    }

    func install(_ configuration: inout MasterConfiguration) {
        let clock = self.clock
        let sink = self.sink
        configuration.tickClock = clock
        configuration.tickInterval = .milliseconds(1)
        configuration.clockMillis = { clock.milliseconds }
        configuration.tickObserver = { sink.yield($0) }
    }

    /// Moves the clock to `millis` (later than now) once the timer loop sleeps, and returns after the tick it runs.
    func tick(at millis: Int64, _ iterator: inout AsyncStream<MasterHealth>.Iterator) async throws {
        try await clock.waitForSleepers(1)
        precondition(millis > clock.milliseconds, "the manual clock only moves forward")
        clock.advance(by: .milliseconds(millis - clock.milliseconds))
        guard await iterator.next() != nil else { throw TimedOut(what: "a master tick") }
    }
}
