/// A socket owned by a ``SocketThread``, as seen from any task: send to it, read its messages and monitor events,
/// run code on it, close it. The handle is only an id; the socket itself never leaves its thread.
public struct SocketHandle: Sendable {
    /// The socket's id within its thread.
    public let id: Int
    /// The socket pattern.
    public let type: SocketType
    /// Every message the socket receives, in order, with its `User-Id` metadata. Ends when the socket is closed or
    /// its thread stops. Buffered without limit: keep consuming it.
    public let messages: AsyncStream<ZMQMessage>
    /// The socket's monitor events when it was opened with ``SocketSetup/monitored``; otherwise ends at once.
    public let events: AsyncStream<SocketEvent>
    let core: ReactorCore

    /// Queues `message` for sending and returns at once: false when the socket's thread has stopped. Failures
    /// later on (closed socket, unreachable routing id) are dropped; use ``sendConfirmed(_:)`` to see them.
    @discardableResult
    public func send(_ message: ZMQMessage) -> Bool {
        precondition(!message.frames.isEmpty, "a ZeroMQ message has at least one frame")
        return core.submit(.send(socket: id, message: message, completion: nil))
    }

    /// Sends `message` and returns once libzmq took it (``SendResult/sent``), or could not and the socket does not
    /// queue (``SendResult/wouldBlock``). Throws ``ZMQError`` when the send failed, e.g.
    /// ``ZMQError/Code/hostUnreachable`` on a ROUTER with `routerMandatory`, or ``ZMQError/Code/socketClosed``.
    public func sendConfirmed(_ message: ZMQMessage) async throws(ZMQError) -> SendResult {
        precondition(!message.frames.isEmpty, "a ZeroMQ message has at least one frame")
        let result = await withCheckedContinuation { (completion: SendCompletion) in
            let command = ReactorCommand.send(socket: id, message: message, completion: completion)
            if !core.submit(command) { command.fail(stoppedError("send")) }
        }
        return try result.get()
    }

    /// Runs `body` with the socket on its thread (read an option, connect somewhere else, ...) and returns its
    /// result. `body` must not block for long (every socket of the thread waits meanwhile) and must not close the
    /// socket (use ``close()``).
    public func perform<T: Sendable>(
        _ body: @escaping @Sendable (ZMQSocket) throws(ZMQError) -> T
    ) async throws(ZMQError) -> T {
        let result = await withCheckedContinuation { (completion: CheckedContinuation<Result<T, ZMQError>, Never>) in
            let command = ReactorCommand.perform(
                socket: id,
                run: { socket in completion.resume(returning: Result { () throws(ZMQError) in try body(socket) }) },
                fail: { error in completion.resume(returning: .failure(error)) }
            )
            if !core.submit(command) { command.fail(stoppedError("perform")) }
        }
        return try result.get()
    }

    /// `ZMQ_LAST_ENDPOINT` of the socket, e.g. the port a `tcp://127.0.0.1:*` bind picked.
    public func lastEndpoint() async throws(ZMQError) -> String {
        try await perform { socket throws(ZMQError) in try socket.lastEndpoint() }
    }

    /// Closes the socket on its thread (queued messages still go out within its linger) and ends its streams.
    /// Returns once it is closed; closing twice, or after the thread stopped, is harmless.
    public func close() async {
        await withCheckedContinuation { (completion: CheckedContinuation<Void, Never>) in
            let command = ReactorCommand.close(socket: id, completion: completion)
            if !core.submit(command) { completion.resume() }
        }
    }
}
