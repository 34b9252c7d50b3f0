import CZeroMQ

/// One libzmq socket with exactly one owner, which creates, uses and closes it on one thread.
///
/// Not `Sendable`: libzmq sockets are not thread-safe. In the agent and the master every socket lives on a
/// ``SocketThread``; direct use is for code that already owns a thread (the ZAP handler, tests of the wrapper).
/// Close it explicitly with ``close()``: `deinit` closes a forgotten socket too, but asserts in debug builds, because
/// a socket closed at an unknown time on an unknown thread is a bug. Set `linger` explicitly (0 to 2 s) before
/// closing a socket with queued messages, or ``ZMQContext/terminate()`` waits for them forever.
public final class ZMQSocket {
    /// The context this socket belongs to; kept alive while the socket exists.
    public let context: ZMQContext
    /// The socket pattern.
    public let type: SocketType
    private(set) var handle: UnsafeMutableRawPointer?
    /// Bytes CURVE adds to every frame before `maxMsgSize` is checked (command name, nonce, flags and MAC, measured
    /// with libzmq 4.3.4): to admit frames of up to N plaintext bytes, set `maxMsgSize` to N + this.
    public static let curveMessageOverhead = 33

    /// Whether `curveServer` was switched on: such a socket binds only while a ZAP handler runs.
    var isCurveServer = false

    /// `zmq_socket`: creates a socket of `type` in `context`.
    public init(context: ZMQContext, type: SocketType) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, type.rawValue) else {
            throw ZMQError.last("zmq_socket \(type)")
        }
        self.context = context
        self.type = type
        self.handle = handle
    }

    deinit {
        assert(handle == nil, "ZMQSocket (\(type)) was not closed before being released")
        if let handle { zmq_close(handle) }
    }

    /// `zmq_close`: closes the socket. Messages still queued are sent in the background for at most `linger`.
    /// Closing twice is harmless.
    public func close() {
        guard let handle else { return }
        zmq_close(handle)
        self.handle = nil
    }

    /// True after ``close()``.
    public var isClosed: Bool { handle == nil }

    /// The open handle; using a closed socket is a programmer error.
    func requireHandle(_ operation: @autoclosure () -> String) -> UnsafeMutableRawPointer {
        guard let handle else { preconditionFailure("\(operation()) on a closed ZMQSocket (\(type))") }
        return handle
    }

    /// `zmq_bind`: listens on `endpoint` (`tcp://127.0.0.1:*` picks a free port; read it back with
    /// ``lastEndpoint()``). A CURVE server refuses to bind unless a ZAP handler runs in the context, because libzmq
    /// would otherwise accept any client key.
    public func bind(_ endpoint: String) throws(ZMQError) {
        let handle = requireHandle("bind")
        if isCurveServer && !context.hasZAPHandler {
            throw ZMQError(
                .zapHandlerMissing,
                operation: "bind \(endpoint)",
                message: "a CURVE server must not bind before a ZAP handler runs in its context"
            )
        }
        try check(zmq_bind(handle, endpoint), "bind \(endpoint)")
    }

    /// `zmq_connect`: connects to `endpoint` in the background; libzmq keeps reconnecting until disconnected.
    public func connect(_ endpoint: String) throws(ZMQError) {
        try check(zmq_connect(requireHandle("connect"), endpoint), "connect \(endpoint)")
    }

    /// `zmq_disconnect`: drops a connection made with ``connect(_:)``.
    public func disconnect(_ endpoint: String) throws(ZMQError) {
        try check(zmq_disconnect(requireHandle("disconnect"), endpoint), "disconnect \(endpoint)")
    }

    /// `zmq_unbind`: stops listening on an endpoint bound with ``bind(_:)`` (use the resolved endpoint, not `*`).
    public func unbind(_ endpoint: String) throws(ZMQError) {
        try check(zmq_unbind(requireHandle("unbind"), endpoint), "unbind \(endpoint)")
    }

    /// `ZMQ_LAST_ENDPOINT`: the endpoint last bound, with a wildcard port resolved (`tcp://127.0.0.1:41237`).
    public func lastEndpoint() throws(ZMQError) -> String {
        try option(.lastEndpoint)
    }

    func check(_ result: Int32, _ operation: @autoclosure () -> String) throws(ZMQError) {
        if result != 0 { throw ZMQError.last(operation()) }
    }
}

extension ZMQSocket {
    /// `ZMQ_EVENTS` as `ZMQ_POLLIN` / `ZMQ_POLLOUT` bits, read without allocating: the socket thread reads it after
    /// every wake-up and every operation. Reading it also processes libzmq's pending commands for the socket, which
    /// re-arms its ``notificationDescriptor()``.
    func readyEvents() throws(ZMQError) -> Int16 {
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        let handle = requireHandle("option events")
        while zmq_getsockopt(handle, ZMQ_EVENTS, &value, &size) != 0 {
            if zmq_errno() != EINTR { throw ZMQError.last("option events") }
        }
        return Int16(truncatingIfNeeded: value)
    }

    /// `ZMQ_FD`: a descriptor that becomes readable when ``readyEvents()`` may have changed. It does not become
    /// readable again for a change that an operation on the socket already took in, so read ``readyEvents()``
    /// after every operation before waiting on it.
    func notificationDescriptor() throws(ZMQError) -> Int32 {
        var value: Int32 = -1
        var size = MemoryLayout<Int32>.size
        let handle = requireHandle("option fd")
        while zmq_getsockopt(handle, ZMQ_FD, &value, &size) != 0 {
            if zmq_errno() != EINTR { throw ZMQError.last("option fd") }
        }
        return value
    }
}
