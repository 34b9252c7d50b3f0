import AgentProtocol
import Synchronization
import ZeroMQ

/// A message from the heartbeat SUB, judged by the ``InboundGate`` and, for a heartbeat, read as one: everything the
/// master's actor needs for its bookkeeping, and whether it goes on to the monitors. Judging is pure, so it runs
/// wherever the message is (``HeartbeatRelay`` does it on the socket thread).
public struct PublishedMessage: Sendable {
    public enum Verdict: Sendable {
        /// A heartbeat from the agent its key belongs to, well formed: relayed.
        case heartbeat(InboundGate.Admitted, Heartbeat)
        /// An `accepted`, `progress` or `result` on the sender's event topic: relayed.
        case event(InboundGate.Admitted)
        /// Not relayed, for this reason.
        case dropped(DropReason)
    }

    public var message: ZMQMessage
    public var verdict: Verdict
    /// The master's clock when the message was judged.
    public var receivedAt: Int64

    public init(_ message: ZMQMessage, gate: InboundGate, receivedAt: Int64) {
        self.message = message
        self.receivedAt = receivedAt
        switch gate.admitPublished(frames: message.frames, userId: message.userId) {
        case .failure(let reason):
            verdict = .dropped(reason)
        case .success((.heartbeat, let admitted)) where admitted.type == "heartbeat":
            if let heartbeat = try? Heartbeat(admitted.envelope) {
                verdict = .heartbeat(admitted, heartbeat)
            } else {
                verdict = .dropped(.malformed)
            }
        case .success((.event, let admitted)) where ["accepted", "progress", "result"].contains(admitted.type):
            verdict = .event(admitted)
        case .success:
            verdict = .dropped(.unexpectedType)
        }
    }

    /// True when the monitors get the message: exactly as received, `[topic, envelope]`, the topic being the
    /// sender's own (the gate checked it).
    public var isRelayed: Bool {
        if case .dropped = verdict { return false }
        return true
    }
}

/// The heartbeat SUB's ``InlineHandler``: on the socket thread, judges each message and relays what is admitted
/// straight to the monitors' XPUB (served by the same thread), then queues it for the master's actor, which books
/// what it has queued in batches (docs/scaling.md#relay). A heartbeat reaches the monitors without waking any other
/// thread of the master, and the actor wakes once per batch, not once per heartbeat.
///
/// The queue holds only messages the SUB's ``InboundBudget`` has taken; the actor releases them once booked, so a
/// lagging actor makes the socket refuse new messages instead of the queue growing.
public final class HeartbeatRelay: InlineHandler {
    private let gate: InboundGate
    private let monitors: SocketHandle
    private let clock: @Sendable () -> Int64
    private let queue = Mutex(Queue())
    private let signal: AsyncStream<Void>.Continuation
    /// Yields (at most one element waiting) when messages are queued for ``take()``.
    public let queued: AsyncStream<Void>

    private struct Queue {
        var messages: [PublishedMessage] = []
        var signalled = false
    }

    public init(gate: InboundGate, monitors: SocketHandle, clock: @escaping @Sendable () -> Int64) {
        self.gate = gate
        self.monitors = monitors
        self.clock = clock
        (queued, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func handle(_ message: ZMQMessage, sockets: InlineSockets) -> ZMQMessage? {
        let judged = PublishedMessage(message, gate: gate, receivedAt: clock())
        if judged.isRelayed {
            sockets.send(ZMQMessage(frames: message.frames), on: monitors)
        }
        let wake = queue.withLock { queue in
            queue.messages.append(judged)
            defer { queue.signalled = true }
            return !queue.signalled
        }
        if wake { signal.yield() }
        return nil
    }

    /// Everything queued since the last call, oldest first.
    public func take() -> [PublishedMessage] {
        queue.withLock { queue in
            queue.signalled = false
            let taken = queue.messages
            queue.messages = []
            return taken
        }
    }

    /// Ends ``queued``.
    public func finish() { signal.finish() }
}
