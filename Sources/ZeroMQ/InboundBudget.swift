import Synchronization

/// A bound on the bytes a server socket has read and its consumer has not handled yet, per peer and in total.
///
/// Without it, a socket thread that drains libzmq as fast as it can (which it must, or one slow peer holds up the
/// others) would queue whatever a peer sends: 120 envelopes of 16 MiB are 1.9 GB. With a budget, the socket thread
/// charges each message to its sender (the ZAP User-Id) before handing it on; a message that would take the sender or
/// the whole socket over its limit is dropped at once and noted as a ``Refusal``, and the consumer calls
/// ``release(_:)`` once it has handled a message. Thread-safe.
public final class InboundBudget: Sendable {
    /// A message dropped because it did not fit.
    public struct Refusal: Sendable, Hashable {
        /// The sender's User-Id, or `nil` when the connection was not authenticated.
        public var userId: String?
        /// The connection it came from, for cutting it.
        public var sourceDescriptor: Int32?
        public var bytes: Int
        /// True when the sender itself was over its own limit, or held more than an even share of a full socket
        /// (the master cuts it); false when only the socket as a whole was full.
        public var peerOverLimit: Bool
    }

    /// Bytes one peer may have waiting.
    public let perPeerBytes: Int
    /// Bytes all peers together may have waiting.
    public let totalBytes: Int
    /// At most this many refusals are kept until ``takeRefusals()``; the rest are only counted.
    public static let refusalsKept = 1024

    private struct State {
        var waiting: [String: Int] = [:]
        var total = 0
        var refusals: [Refusal] = []
        var refusedMessages = 0
        var refusedBytes = 0
    }

    private let state = Mutex(State())

    public init(perPeerBytes: Int, totalBytes: Int) {
        precondition(perPeerBytes > 0 && totalBytes >= perPeerBytes, "a budget needs 0 < perPeer <= total")
        self.perPeerBytes = perPeerBytes
        self.totalBytes = totalBytes
    }

    /// Takes `message` into the budget, or refuses it. Called by the socket thread.
    func charge(_ message: ZMQMessage) -> Bool {
        let bytes = message.byteCount
        let key = message.userId ?? ""
        return state.withLock { state in
            let peer = state.waiting[key, default: 0]
            let socketOver = state.total + bytes > totalBytes
            // When the socket as a whole is full, a peer holding more than an even share of it counts as over its
            // own limit too (and is cut), so that a few keys flooding together cannot starve everyone else.
            let peers = state.waiting.count + (peer == 0 ? 1 : 0)
            let peerOver = peer + bytes > perPeerBytes || (socketOver && peer + bytes > totalBytes / peers)
            if peerOver || socketOver {
                state.refusedMessages += 1
                state.refusedBytes += bytes
                if state.refusals.count < Self.refusalsKept {
                    state.refusals.append(
                        Refusal(
                            userId: message.userId,
                            sourceDescriptor: message.sourceDescriptor,
                            bytes: bytes,
                            peerOverLimit: peerOver
                        )
                    )
                }
                return false
            }
            state.waiting[key] = peer + bytes
            state.total += bytes
            return true
        }
    }

    /// Gives back what `message` took: call it once for every message the socket delivered.
    public func release(_ message: ZMQMessage) {
        release(userId: message.userId, bytes: message.byteCount)
    }

    /// ``release(_:)`` for a message already freed: its sender's User-Id and its size.
    public func release(userId: String?, bytes: Int) {
        let key = userId ?? ""
        state.withLock { state in
            let left = state.waiting[key, default: 0] - bytes
            state.waiting[key] = left > 0 ? left : nil
            state.total = max(0, state.total - bytes)
        }
    }

    /// The refusals since the last call, oldest first.
    public func takeRefusals() -> [Refusal] {
        state.withLock { state in
            defer { state.refusals.removeAll() }
            return state.refusals
        }
    }

    /// Bytes waiting now, and messages and bytes refused so far.
    public var statistics: (waitingBytes: Int, refusedMessages: Int, refusedBytes: Int) {
        state.withLock { ($0.total, $0.refusedMessages, $0.refusedBytes) }
    }
}
