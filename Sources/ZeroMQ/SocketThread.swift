/// One dedicated OS thread that creates, uses and closes a set of ZeroMQ sockets, waiting on them with epoll.
///
/// libzmq sockets are not thread-safe and a Swift task may hop threads at every `await`, so sockets never leave this
/// thread. Other code talks to them through ``SocketHandle``: sends go into a queue and wake the thread through a
/// pipe it polls; received messages and monitor events come out as `AsyncStream`s. Nothing here blocks Swift's
/// cooperative pool. Every socket gets an explicit linger (``SocketSetup/linger``, at most 2 s), so
/// ``shutdown()`` followed by ``ZMQContext/terminateOffPool()`` finishes within that bound even when peers are gone.
///
/// Dropping the last reference to a `SocketThread` stops it as ``shutdown()`` would, without waiting.
public final class SocketThread: Sendable {
    /// The context the sockets belong to.
    public let context: ZMQContext
    /// The OS thread's name (shown by debuggers and `top -H`).
    public let name: String
    let core: ReactorCore

    /// Starts the thread. Throws only when the wake-up pipe or the epoll instance cannot be created (out of
    /// descriptors).
    public init(context: ZMQContext, name: String = "zmq-sockets") throws(ZMQError) {
        self.context = context
        self.name = name
        let core = ReactorCore(wakeup: try WakeupPipe())
        let poller = try EventPoller()
        self.core = core
        DedicatedThread.start(name: name) {
            ReactorLoop(context: context, core: core, poller: poller).run()
        }
    }

    deinit {
        core.requestStop()
    }

    /// Creates a socket on the thread as `setup` says, then runs `configure` there (set CURVE keys and other options,
    /// bind or connect; keep it short, other sockets wait). Throws what `configure` threw (the socket is then closed),
    /// or ``ZMQError/Code/reactorStopped``.
    ///
    /// The socket belongs to the thread's ``context`` unless `otherContext` names another one: one thread may serve
    /// sockets of several contexts (each keeps its own ZAP handler and I/O thread), so that an ``InlineHandler`` can
    /// relay between them. Shut the thread down before terminating any context it serves.
    public func open(
        _ setup: SocketSetup,
        in otherContext: ZMQContext? = nil,
        configure: @escaping @Sendable (ZMQSocket) throws(ZMQError) -> Void
    ) async throws(ZMQError) -> SocketHandle {
        let id = core.makeSocketId()
        let (messages, messageContinuation) = AsyncStream.makeStream(of: ZMQMessage.self)
        let (events, eventContinuation) = AsyncStream.makeStream(of: SocketEvent.self)
        let result = await withCheckedContinuation { (completion: CheckedContinuation<Result<Void, ZMQError>, Never>) in
            let command = ReactorCommand.open(
                OpenRequest(
                    id: id,
                    setup: setup,
                    context: otherContext,
                    configure: configure,
                    messages: messageContinuation,
                    events: eventContinuation,
                    completion: completion
                )
            )
            if !core.submit(command) { command.fail(stoppedError("open")) }
        }
        try result.get()
        return SocketHandle(id: id, type: setup.type, messages: messages, events: events, core: core)
    }

    /// ``open(_:configure:)`` with a ``SocketSetup`` built from these arguments.
    public func open(
        _ type: SocketType,
        linger: Int32 = 1000,
        monitored: Bool = false,
        in otherContext: ZMQContext? = nil,
        configure: @escaping @Sendable (ZMQSocket) throws(ZMQError) -> Void
    ) async throws(ZMQError) -> SocketHandle {
        try await open(SocketSetup(type, linger: linger, monitored: monitored), in: otherContext, configure: configure)
    }

    /// Stops the thread: commands already queued still run (sends are handed to libzmq), then every socket is closed
    /// with its linger and every stream ends. Returns when the thread has closed all its sockets; calling it again
    /// just waits.
    public func shutdown() async {
        core.requestStop()
        await core.waitUntilStopped()
    }

    /// True until ``shutdown()`` is called or the context is shut down (`ETERM`).
    public var isRunning: Bool { core.phase == .running }
}

func stoppedError(_ operation: String) -> ZMQError {
    ZMQError(.reactorStopped, operation: operation, message: "the socket thread has stopped")
}
