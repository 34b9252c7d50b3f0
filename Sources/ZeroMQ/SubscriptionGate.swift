import Synchronization

/// A bound on the subscriptions the peers of an XPUB may hold, per authenticated key and per topic length.
///
/// An XPUB keeps every subscription a subscriber sends in a trie for as long as the connection lives, and glibc does
/// not give that memory back when it goes: one monitor that subscribes to 300,000 distinct topics costs the master
/// hundreds of MiB for good. With a gate, the socket thread runs the XPUB in manual mode (`ZMQ_XPUB_MANUAL`): every
/// subscription message reaches the thread, which asks the gate, and only what the gate admits is registered
/// (`ZMQ_SUBSCRIBE` for the pipe the message came from). libzmq still remembers, per pipe, every subscription that
/// reached it in manual mode until the pipe ends, so a refused subscription cuts the connection: that is the only way
/// to give the memory back. Refusals are counted, by key. A connection's subscriptions are released when the socket's
/// monitor reports it closed.
///
/// Thread-safe: the socket thread admits and releases, any thread reads ``statistics``.
public final class SubscriptionGate: Sendable {
    /// How a subscription message was judged.
    public enum Verdict: Sendable, Hashable {
        /// Register it (`subscribe`) or remove it (`unsubscribe`) for the message's pipe.
        case subscribe, unsubscribe
        /// Leave the socket's subscriptions as they are.
        case ignore
        /// Over a limit: end the connection the message came from.
        case cut
    }

    /// Counters since the socket opened.
    public struct Statistics: Sendable, Hashable {
        /// Subscriptions held now, over all connections.
        public var held = 0
        /// Subscriptions refused because the key already held ``SubscriptionGate/perKeyLimit``.
        public var refusedOverLimit = 0
        /// Subscriptions refused because the topic was longer than ``SubscriptionGate/maxTopicBytes``.
        public var refusedTooLong = 0
        /// Messages that were neither a subscription nor an unsubscription, or came from no known connection.
        public var malformed = 0
        /// Keys that were refused at least once, by refusals (at most ``SubscriptionGate/keysReported`` keys).
        public var refusedKeys: [String: Int] = [:]

        public var refused: Int { refusedOverLimit + refusedTooLong }
    }

    /// Subscriptions one authenticated key may hold over all its connections.
    public let perKeyLimit: Int
    /// The longest topic prefix admitted, in bytes.
    public let maxTopicBytes: Int
    /// At most this many keys are named in ``Statistics/refusedKeys``.
    public static let keysReported = 64

    private struct State {
        var byConnection: [Int32: (key: String, topics: Set<[UInt8]>)] = [:]
        var heldByKey: [String: Int] = [:]
        var statistics = Statistics()
    }

    private let state = Mutex(State())

    public init(perKeyLimit: Int, maxTopicBytes: Int) {
        precondition(perKeyLimit > 0 && maxTopicBytes >= 0, "a subscription gate needs a positive limit")
        self.perKeyLimit = perKeyLimit
        self.maxTopicBytes = maxTopicBytes
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Judges one message received on the XPUB: `[1, topic...]` subscribes, `[0, topic...]` unsubscribes. A message
    /// without a source connection (libzmq's own unsubscriptions for a pipe that is gone) is ignored: the pipe's
    /// subscriptions went with it.
    func admit(_ message: ZMQMessage) -> (verdict: Verdict, topic: [UInt8]) {
        guard message.frames.count == 1, let first = message.frames[0].first, first <= 1,
            let descriptor = message.sourceDescriptor
        else {
            if message.sourceDescriptor != nil { state.withLock { $0.statistics.malformed += 1 } }
            return (.ignore, [])
        }
        let topic = Array(message.frames[0].dropFirst())
        let key = message.userId ?? ""
        return state.withLock { state in
            var connection = state.byConnection[descriptor] ?? (key, [])
            if connection.key != key {
                // The descriptor was reused by a new connection before its predecessor's close event arrived.
                release(descriptor, in: &state)
                connection = (key, [])
            }
            if first == 0 {
                guard connection.topics.remove(topic) != nil else { return (.ignore, topic) }
                state.byConnection[descriptor] = connection
                state.heldByKey[key, default: 1] -= 1
                if state.heldByKey[key] == 0 { state.heldByKey[key] = nil }
                state.statistics.held -= 1
                return (.unsubscribe, topic)
            }
            if connection.topics.contains(topic) { return (.ignore, topic) }
            if topic.count > maxTopicBytes {
                state.statistics.refusedTooLong += 1
                noteRefusal(key, in: &state)
                release(descriptor, in: &state)
                return (.cut, topic)
            }
            if state.heldByKey[key, default: 0] >= perKeyLimit {
                state.statistics.refusedOverLimit += 1
                noteRefusal(key, in: &state)
                release(descriptor, in: &state)
                return (.cut, topic)
            }
            connection.topics.insert(topic)
            state.byConnection[descriptor] = connection
            state.heldByKey[key, default: 0] += 1
            state.statistics.held += 1
            return (.subscribe, topic)
        }
    }

    /// The connection on `descriptor` closed: its subscriptions no longer count against its key.
    func closed(descriptor: Int32) {
        state.withLock { release(descriptor, in: &$0) }
    }

    private func release(_ descriptor: Int32, in state: inout State) {
        guard let connection = state.byConnection.removeValue(forKey: descriptor) else { return }
        let count = connection.topics.count
        let left = state.heldByKey[connection.key, default: count] - count
        state.heldByKey[connection.key] = left > 0 ? left : nil
        state.statistics.held -= count
    }

    private func noteRefusal(_ key: String, in state: inout State) {
        if state.statistics.refusedKeys[key] != nil || state.statistics.refusedKeys.count < Self.keysReported {
            state.statistics.refusedKeys[key, default: 0] += 1
        }
    }
}
