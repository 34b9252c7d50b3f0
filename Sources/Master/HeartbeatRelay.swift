import AgentProtocol
import Synchronization
import ZeroMQ

/// Where a message came from and its shape, without its bytes: what the master logs and acts on when it drops a
/// message (the connection to cut, the key, a few bytes of the first frame).
public struct MessageOrigin: Sendable {
    public var userId: String?
    public var peerAddress: String?
    public var sourceDescriptor: Int32?
    public var frameCount: Int
    public var byteCount: Int
    /// At most the first ``firstFrameKept`` bytes of the first frame.
    public var firstFrame: [UInt8]?

    public static let firstFrameKept = 320

    public init(_ message: ZMQMessage) {
        userId = message.userId
        peerAddress = message.peerAddress
        sourceDescriptor = message.sourceDescriptor
        frameCount = message.frames.count
        byteCount = message.byteCount
        firstFrame = message.frames.first.map { Array($0.prefix(Self.firstFrameKept)) }
    }
}

/// A message from the heartbeat SUB, judged by the ``InboundGate`` and, for a heartbeat, read as one: what the
/// master's actor needs for its bookkeeping, and whether it goes on to the monitors. Judging is pure, so it runs
/// wherever the message is (``HeartbeatRelay`` does it on the socket thread). It keeps neither the message's bytes
/// nor its parsed envelope, only what the actor books: a queue of judged messages is small however large the
/// messages were.
public struct PublishedMessage: Sendable {
    public enum Verdict: Sendable {
        /// A heartbeat from the agent its key belongs to, well formed: relayed. Its `state` member is read as an
        /// ``AgentState`` here (`nil` when it does not have that shape) and left out of the ``Heartbeat`` (`null`):
        /// the parsed JSON is read and freed where it was just made, on the judging thread.
        case heartbeat(agentID: String, Heartbeat, state: AgentState?)
        /// An `accepted`, `progress` or `result` on the sender's event topic: relayed.
        case event(agentID: String)
        /// Not relayed, for this reason.
        case dropped(DropReason)
    }

    public var origin: MessageOrigin
    public var verdict: Verdict
    /// The master's clock when the message was judged.
    public var receivedAt: Int64

    public init(_ message: ZMQMessage, gate: InboundGate, receivedAt: Int64) {
        self.origin = MessageOrigin(message)
        self.receivedAt = receivedAt
        switch gate.admitPublished(frames: message.frames, userId: message.userId) {
        case .failure(let reason):
            verdict = .dropped(reason)
        case .success((.heartbeat, let admitted)) where admitted.type == "heartbeat":
            if var heartbeat = try? Heartbeat(admitted.envelope) {
                let state = try? AgentState(heartbeat.state)
                heartbeat.state = .null
                verdict = .heartbeat(agentID: admitted.agentID, heartbeat, state: state)
            } else {
                verdict = .dropped(.malformed)
            }
        case .success((.event, let admitted)) where ["accepted", "progress", "result"].contains(admitted.type):
            verdict = .event(agentID: admitted.agentID)
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
/// lagging actor makes the socket refuse new messages instead of the queue growing. The messages' bytes are freed as
/// soon as they are judged and relayed.
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

    /// Judges and relays a message on the socket thread, unless it is larger than ``inlineLimit``: that one goes on
    /// to the SUB's stream, for ``judgeAside(_:)``.
    public func handle(_ message: ZMQMessage, sockets: InlineSockets) -> ZMQMessage? {
        guard message.byteCount <= Self.inlineLimit else { return message }
        let judged = PublishedMessage(message, gate: gate, receivedAt: clock())
        if judged.isRelayed {
            sockets.send(ZMQMessage(frames: message.frames), on: monitors)
        }
        enqueue(judged)
        return nil
    }

    /// The largest message judged on the socket thread: 256 KiB, far more than any heartbeat an agent sends. Reading
    /// a larger one as JSON takes long enough that the socket thread would fall behind the other sockets, and libzmq
    /// would meanwhile queue whatever else a flooding peer sends, before any budget sees it.
    public static let inlineLimit = 256 * 1024

    /// Judges a message the socket thread handed on (larger than ``inlineLimit``), off that thread, relays it
    /// through the XPUB's handle when admitted, and queues it for the actor like the rest. Such a message may reach
    /// the monitors after smaller ones sent later.
    public func judgeAside(_ message: ZMQMessage) {
        let judged = PublishedMessage(message, gate: gate, receivedAt: clock())
        if judged.isRelayed {
            monitors.send(ZMQMessage(frames: message.frames))
        }
        enqueue(judged)
    }

    private func enqueue(_ judged: PublishedMessage) {
        let wake = queue.withLock { queue in
            queue.messages.append(judged)
            defer { queue.signalled = true }
            return !queue.signalled
        }
        if wake { signal.yield() }
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
