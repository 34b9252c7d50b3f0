import CZeroMQ
import Synchronization

/// The ZAP handler (RFC 27) of one context: a REP socket bound at `inproc://zeromq.zap.01` on a thread of its own,
/// answering libzmq's authentication requests with a pluggable ``ZAPAuthoriser``.
///
/// Without it a CURVE server accepts every client key, so start it before any CURVE server binds
/// (``ZMQSocket/bind(_:)`` refuses otherwise) and check ``isRunning`` where a server must not run unprotected. Stop
/// the CURVE servers before ``stop()``: once the handler is gone, libzmq lets clients in unchecked again.
public final class ZAPHandler: Sendable {
    /// Where libzmq sends ZAP requests.
    public static let endpoint = "inproc://zeromq.zap.01"

    /// Counters since start.
    public struct Statistics: Sendable, Hashable {
        /// Requests answered.
        public var requests = 0
        /// Answered with status 200.
        public var allowed = 0
        /// Answered with status 300, 400 or 500 by the authoriser.
        public var denied = 0
        /// Not a valid ZAP 1.0 request (answered with status 500).
        public var malformed = 0

        public init(requests: Int = 0, allowed: Int = 0, denied: Int = 0, malformed: Int = 0) {
            self.requests = requests
            self.allowed = allowed
            self.denied = denied
            self.malformed = malformed
        }
    }

    private enum Phase {
        case idle
        case starting
        case running
        case stopped
    }

    private struct State {
        var phase = Phase.idle
        var statistics = Statistics()
        var stopRequested = false
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
    }

    public let context: ZMQContext
    public let authoriser: any ZAPAuthoriser
    private let state = Mutex(State())
    private let wakeup: WakeupPipe

    /// A handler for `context` deciding with `authoriser`; it does nothing until ``start()``.
    public init(context: ZMQContext, authoriser: any ZAPAuthoriser) throws(ZMQError) {
        self.context = context
        self.authoriser = authoriser
        self.wakeup = try WakeupPipe()
    }

    /// Starts the handler thread and returns once its socket is bound. Throws
    /// ``ZMQError/Code/zapHandlerAlreadyRunning`` when another handler holds the endpoint, or when called twice.
    public func start() async throws(ZMQError) {
        let fresh = state.withLock { state -> Bool in
            guard state.phase == .idle else { return false }
            state.phase = .starting
            return true
        }
        guard fresh else {
            throw ZMQError(
                .zapHandlerAlreadyRunning,
                operation: "ZAPHandler.start",
                message: "start() was called before"
            )
        }
        let result = await withCheckedContinuation { (started: CheckedContinuation<Result<Void, ZMQError>, Never>) in
            DedicatedThread.start(name: "zmq-zap") { self.run(started: started) }
        }
        try result.get()
    }

    /// True while the handler answers requests.
    public var isRunning: Bool { state.withLock { $0.phase == .running } }

    /// Throws ``ZMQError/Code/zapHandlerMissing`` unless the handler is running: the master calls this before it
    /// opens its CURVE servers.
    public func requireRunning() throws(ZMQError) {
        guard isRunning else {
            throw ZMQError(
                .zapHandlerMissing,
                operation: "ZAPHandler.requireRunning",
                message: "the ZAP handler is not running"
            )
        }
    }

    /// The counters so far.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Stops the handler and returns once its socket is closed (at once if it never started).
    public func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.phase == .idle || state.phase == .stopped {
                    state.phase = .stopped
                    return true
                }
                state.stopRequested = true
                state.stopWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() } else { wakeup.signal() }
        }
    }

    // MARK: - The handler thread

    private func run(started: CheckedContinuation<Result<Void, ZMQError>, Never>) {
        let socket: ZMQSocket
        do throws(ZMQError) {
            socket = try ZMQSocket(context: context, type: .rep)
            do {
                try socket.setOption(.linger, 0)
                try socket.bind(ZAPHandler.endpoint)
            } catch {
                socket.close()
                throw error.code == .addressInUse
                    ? ZMQError(
                        .zapHandlerAlreadyRunning,
                        operation: "bind \(ZAPHandler.endpoint)",
                        message: "another ZAP handler is bound in this context",
                        errno: error.errno
                    )
                    : error
            }
        } catch {
            finish()
            started.resume(returning: .failure(error))
            return
        }
        context.setZAPHandlerRunning(true)
        state.withLock { $0.phase = .running }
        started.resume(returning: .success(()))
        serve(socket)
        context.setZAPHandlerRunning(false)
        socket.close()
        finish()
    }

    private func serve(_ socket: ZMQSocket) {
        var items = [
            zmq_pollitem_t(socket: socket.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
            zmq_pollitem_t(socket: nil, fd: wakeup.readDescriptor, events: Int16(ZMQ_POLLIN), revents: 0),
        ]
        while true {
            if zmq_poll(&items, 2, -1) < 0 {
                if zmq_errno() == EINTR { continue }
                return  // ETERM: the context is going away.
            }
            if items[1].revents != 0 {
                wakeup.drain()
                if state.withLock({ $0.stopRequested }) { return }
            }
            guard items[0].revents != 0 else { continue }
            do {
                guard let request = try socket.receive(flags: .dontWait) else { continue }
                try socket.send(frames: answer(request.frames))
            } catch {
                // Only ETERM ends the handler: without it libzmq would admit every client.
                if error.isTermination { return }
            }
        }
    }

    /// The reply to one request, counting it.
    private func answer(_ frames: [[UInt8]]) -> [[UInt8]] {
        guard let request = ZAPRequest(frames: frames) else {
            state.withLock {
                $0.statistics.requests += 1
                $0.statistics.malformed += 1
            }
            let requestID = frames.count > 1 ? frames[1] : []
            return ZAPDecision.deny(status: 500, reason: "malformed ZAP request").replyFrames(requestID: requestID)
        }
        let decision = authoriser.authorise(request)
        state.withLock { state in
            state.statistics.requests += 1
            if case .allow = decision { state.statistics.allowed += 1 } else { state.statistics.denied += 1 }
        }
        return decision.replyFrames(requestID: request.requestID)
    }

    private func finish() {
        let waiters = state.withLock { state in
            state.phase = .stopped
            defer { state.stopWaiters.removeAll() }
            return state.stopWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

extension ZAPHandler {
    /// A handler deciding with a closure.
    public convenience init(
        context: ZMQContext,
        authorise: @escaping @Sendable (ZAPRequest) -> ZAPDecision
    ) throws(ZMQError) {
        try self.init(context: context, authoriser: ClosureAuthoriser(authorise))
    }
}
