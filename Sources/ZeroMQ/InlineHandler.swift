/// Work done on a ``SocketThread`` itself, as each message arrives, instead of in the consumer of
/// ``SocketHandle/messages``.
///
/// A relay that only needs to look at a message and pass it on to another socket of the same thread loses most of
/// its cost in waking threads: the socket thread wakes the consumer's task, which hands the message back to a socket
/// thread. An inline handler decides on the spot and sends through ``InlineSockets``, with no hop. It runs on the
/// socket thread, between libzmq calls for every other socket of that thread, so it must be short and must never
/// block or wait.
public protocol InlineHandler: Sendable {
    /// Called for each message the socket receives (after its ``InboundBudget`` took it). Returns the message to
    /// deliver to ``SocketHandle/messages`` as usual, or `nil` when the handler has taken it over; a handler that
    /// takes a message over also takes over releasing it from the socket's budget.
    func handle(_ message: ZMQMessage, sockets: InlineSockets) -> ZMQMessage?
}

/// What an ``InlineHandler`` may do with the other sockets of its thread: send, exactly as ``SocketHandle/send(_:)``
/// would, without the queue in between. Use it only during the call it is passed to: it is not `Sendable`, so it
/// cannot leave the socket thread.
public struct InlineSockets {
    private let loop: ReactorLoop

    init(loop: ReactorLoop) {
        self.loop = loop
    }

    /// Sends `message` on the socket `handle` names, which must belong to the same ``SocketThread``. False when that
    /// socket is closed or its backlog is full; a socket that cannot take the message now keeps it for later, as a
    /// send through its handle would.
    @discardableResult
    public func send(_ message: ZMQMessage, on handle: SocketHandle) -> Bool {
        guard handle.core === loop.core, let entry = loop.entries[handle.id] else { return false }
        return loop.sendInline(message, on: entry)
    }
}
