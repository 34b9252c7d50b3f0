import AgentProtocol
import DecnetJSON
import Foundation
import Synchronization
import ZeroMQ

/// A monitor as an operator would run one: a CURVE SUB on the master's XPUB with a key from the master's
/// `monitors/`, subscribed to `hb.`. It records every heartbeat it receives per agent (`seq`, when) and the relay
/// latency (receipt time minus the heartbeat's `sent_at`), so a run can account for every heartbeat sent.
///
/// Its receive queue is unbounded (`ZMQ_RCVHWM` 0): libzmq's I/O thread drains the master's XPUB as fast as the
/// network delivers, so the master's send queue to this monitor (high-water mark 1000) never fills while the
/// monitor's own thread is busy.
final class HeartbeatMonitor: Sendable {
    /// One received heartbeat: its sequence number and when it arrived (fleet clock, milliseconds).
    struct Receipt: Sendable {
        let seq: Int
        let at: Int64
    }

    struct Counts: Sendable {
        var receipts: [String: [Receipt]] = [:]
        var bootIDs: [String: Set<String>] = [:]
        /// Milliseconds from `sent_at` to receipt, one per heartbeat.
        var latencies: [Int32] = []
        var malformed = 0
        var handshakes: [Int64] = []
        var disconnects: [Int64] = []
    }

    let context: ZMQContext
    let thread: SocketThread
    let socket: SocketHandle
    private let counts = Mutex(Counts())

    private init(context: ZMQContext, thread: SocketThread, socket: SocketHandle) {
        self.context = context
        self.thread = thread
        self.socket = socket
    }

    /// Opens the SUB in a context of its own and starts dialling `endpoint`.
    static func connect(
        endpoint: String,
        keys: CurveKeyPair,
        masterKey: CurveKey,
        topicPrefix: String = "hb."
    ) async throws(ZMQError)
        -> HeartbeatMonitor
    {
        let context = try ZMQContext()
        let thread = try SocketThread(context: context, name: "load-monitor")
        do {
            let socket = try await thread.open(SocketSetup(.sub, linger: 0, monitored: true)) {
                (s: ZMQSocket) throws(ZMQError) in
                try s.makeCurveClient(keys: keys, serverKey: masterKey)
                try s.setOption(.rcvhwm, 0)
                try s.setOption(.reconnectIvl, 100)
                try s.setOption(.reconnectIvlMax, 1000)
                try s.setOption(.subscribe, Array(topicPrefix.utf8))
                try s.connect(endpoint)
            }
            return HeartbeatMonitor(context: context, thread: thread, socket: socket)
        } catch {
            await thread.shutdown()
            await context.terminateOffPool()
            throw error
        }
    }

    var snapshot: Counts { counts.withLock { $0 } }

    var isConnected: Bool {
        counts.withLock { state in
            guard let last = state.handshakes.last else { return false }
            return state.disconnects.last.map { $0 < last } ?? true
        }
    }

    /// Receives until the socket closes.
    func run(clock: FleetClock) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in self.socket.events {
                    let now = clock.millis()
                    switch event.kind {
                    case .handshakeSucceeded: self.counts.withLock { $0.handshakes.append(now) }
                    case .disconnected: self.counts.withLock { $0.disconnects.append(now) }
                    default: break
                    }
                }
            }
            group.addTask {
                for await message in self.socket.messages {
                    self.record(message, at: clock.millis(), wallMillis: Int64(Date().timeIntervalSince1970 * 1000))
                }
            }
        }
    }

    private func record(_ message: ZMQMessage, at now: Int64, wallMillis: Int64) {
        guard message.frames.count == 2, case .object(let envelope)? = try? JSONParser.parse(message.frames[1]),
            let heartbeat = try? Heartbeat(envelope), !heartbeat.agentID.isEmpty,
            message.frames[0] == Array(WireProtocol.heartbeatTopic(heartbeat.agentID).utf8)
        else {
            counts.withLock { $0.malformed += 1 }
            return
        }
        let (agent, seq, boot) = (heartbeat.agentID, heartbeat.seq, heartbeat.bootID)
        let sentAt = heartbeat.sentAtMillis.map(Int64.init)
        counts.withLock { state in
            state.receipts[agent, default: []].append(Receipt(seq: seq, at: now))
            state.bootIDs[agent, default: []].insert(boot)
            if let sentAt { state.latencies.append(Int32(clamping: wallMillis - sentAt)) }
        }
    }

    func close() async {
        await thread.shutdown()
        await context.terminateOffPool()
    }
}
