import AgentProtocol
import DecnetJSON
import Foundation
import Logging
import Master
import MasterStore
import ZeroMQ

/// The master's own work per heartbeat, without libzmq and without threads: judging each message as the relay does
/// on the socket thread (identity, topic, envelope, `Heartbeat`), then booking it as the master's actor does, in
/// batches. `agents` agents, each connected by a hello, send one heartbeat each per round, with a growing `seq`,
/// shaped as load-agents sends them. What libzmq, CURVE and the wake-ups add is what `scripts/load-test.sh` measures
/// on top of this (docs/scaling.md#booking).
enum RelayBench {
    /// Microseconds per heartbeat, one value per round.
    struct Timings {
        var judgeMicros: [Double] = []
        var bookMicros: [Double] = []
        var tickMicros: [Double] = []
    }

    /// `tickEvery`: heartbeats between two timer ticks (200 at 1,000 a second: the master ticks every 200 ms). The
    /// master's store lives in a temporary folder, as a served master's does in its run folder.
    static func run(agents: Int, rounds: Int, batch: Int, tickEvery: Int) async throws -> Timings {
        let keys = (0..<agents).map { index in String(format: "%040d", index) }
        let ids = (0..<agents).map { String(format: "load-%05d", $0) }
        let identities = Dictionary(uniqueKeysWithValues: zip(keys, ids))
        let gate = InboundGate(
            maxMessageSize: 1 << 20,
            agentIdentity: { identities[$0] },
            isMonitor: { _ in false }
        )
        let core = MasterCore(
            gate: gate,
            retryInterval: .seconds(10),
            logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }),
            clock: { 1_000 }
        )
        await core.attach(
            MasterOutlets(toAgent: { _, _ in true }, toControl: { _, _ in true }),
            zapStatistics: { (nil, nil) }
        )
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("relay-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try MasterStore(directory: folder, now: 1_765_000_000_000)
        try await core.openDesiredState(store: store, settings: ReconcileSettings())
        // Every agent says hello first, as load-agents' do: connected, with a route, as in a running fleet.
        for index in 0..<agents {
            let hello = Messages.hello(
                agentID: ids[index],
                agentVersion: "0.1.0",
                bootID: "boot-\(index)",
                capabilities: ["apply", "teardown", "state", "ping"],
                state: AgentState.idle.jsonValue
            )
            await core.command(
                ZMQMessage(
                    frames: [Array(ids[index].utf8), Messages.frame(hello)],
                    userId: keys[index],
                    peerAddress: "127.0.0.1",
                    sourceDescriptor: Int32(100 + index)
                )
            )
        }
        let clock = ContinuousClock()
        var result = Timings()
        for round in 1...rounds {
            let messages = (0..<agents).map { index in
                let envelope = Messages.heartbeat(
                    agentID: ids[index],
                    bootID: "boot-\(index)",
                    seq: round,
                    sentAtMillis: 1_765_000_000_000 + round,
                    intervalMillis: 1_000,
                    agentVersion: "0.1.0",
                    running: .null,
                    state: AgentState.idle.jsonValue
                )
                return ZMQMessage(
                    frames: [Array(WireProtocol.heartbeatTopic(ids[index]).utf8), Messages.frame(envelope)],
                    userId: keys[index],
                    peerAddress: "127.0.0.1",
                    sourceDescriptor: Int32(100 + index)
                )
            }
            var judged: [PublishedMessage] = []
            judged.reserveCapacity(agents)
            let judging = clock.measure {
                for message in messages { judged.append(PublishedMessage(message, gate: gate, receivedAt: 1_000)) }
            }
            var booking = Duration.zero
            var ticking = Duration.zero
            var index = 0
            while index < judged.count {
                let slice = Array(judged[index..<min(index + batch, judged.count)])
                booking += await clock.measure { await core.published(slice) }
                index += batch
                if index % tickEvery < batch { ticking += await clock.measure { await core.tick() } }
            }
            result.judgeMicros.append(micros(judging) / Double(agents))
            result.bookMicros.append(micros(booking) / Double(agents))
            result.tickMicros.append(micros(ticking) / Double(agents))
        }
        return result
    }

    static func micros(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
    }
}
