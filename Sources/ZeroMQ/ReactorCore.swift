import Synchronization

/// The part of a ``SocketThread`` that other threads touch: the command queue, the run phase and the wake-up pipe.
/// All mutable state is inside the `Mutex`, and the pipe is itself `Sendable`.
final class ReactorCore: Sendable {
    enum Phase: Sendable {
        case running
        case stopping
        case stopped
    }

    struct State {
        var commands: [ReactorCommand] = []
        var signalled = false
        var phase = Phase.running
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
        var nextSocketId = 1
    }

    let wakeup: WakeupPipe
    private let state = Mutex(State())

    init(wakeup: WakeupPipe) {
        self.wakeup = wakeup
    }

    /// Queues a command for the socket thread; false (and nothing queued) once it is stopping. Only the first command
    /// after a wake-up writes to the pipe.
    func submit(_ command: ReactorCommand) -> Bool {
        let signal: Bool? = state.withLock { state in
            guard state.phase == .running else { return nil }
            state.commands.append(command)
            if state.signalled { return false }
            state.signalled = true
            return true
        }
        guard let signal else { return false }
        if signal { wakeup.signal() }
        return true
    }

    /// Called by the socket thread after draining the pipe: the queued commands, and whether a stop was requested.
    func takeCommands() -> (commands: [ReactorCommand], stopping: Bool) {
        state.withLock { state in
            state.signalled = false
            let commands = state.commands
            state.commands.removeAll(keepingCapacity: true)
            return (commands, state.phase != .running)
        }
    }

    /// Refuses new commands and wakes the thread so it closes its sockets and exits.
    func requestStop() {
        let wake = state.withLock { state -> Bool in
            guard state.phase == .running else { return false }
            state.phase = .stopping
            return true
        }
        if wake { wakeup.signal() }
    }

    /// Called by the socket thread when it leaves its loop on its own (`ETERM`): refuses new commands.
    func beginStopping() {
        state.withLock { state in
            if state.phase == .running { state.phase = .stopping }
        }
    }

    /// Called by the socket thread last of all: marks it stopped and releases everyone waiting for that.
    func markStopped() {
        let waiters = state.withLock { state in
            state.phase = .stopped
            defer { state.stopWaiters.removeAll() }
            return state.stopWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Suspends until the socket thread has closed its sockets and exited.
    func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let stopped = state.withLock { state in
                if state.phase == .stopped { return true }
                state.stopWaiters.append(continuation)
                return false
            }
            if stopped { continuation.resume() }
        }
    }

    var phase: Phase { state.withLock { $0.phase } }

    func makeSocketId() -> Int {
        state.withLock { state in
            defer { state.nextSocketId += 1 }
            return state.nextSocketId
        }
    }
}

/// A completion for a send: the result once libzmq took the message (or refused it).
typealias SendCompletion = CheckedContinuation<Result<SendResult, ZMQError>, Never>

/// Work for the socket thread.
enum ReactorCommand: Sendable {
    case open(OpenRequest)
    case send(socket: Int, message: ZMQMessage, completion: SendCompletion?)
    /// Runs `run` with the socket, or `fail` when the socket is gone.
    case perform(socket: Int, run: @Sendable (ZMQSocket) -> Void, fail: @Sendable (ZMQError) -> Void)
    case close(socket: Int, completion: CheckedContinuation<Void, Never>?)

    /// Completes the command with `error` without running it (the thread has stopped).
    func fail(_ error: ZMQError) {
        switch self {
        case .open(let request):
            request.finishStreams()
            request.completion.resume(returning: .failure(error))
        case .send(_, _, let completion):
            completion?.resume(returning: .failure(error))
        case .perform(_, _, let fail):
            fail(error)
        case .close(_, let completion):
            completion?.resume()
        }
    }
}

/// Everything the socket thread needs to create a socket and hand its streams over.
struct OpenRequest: Sendable {
    let id: Int
    let setup: SocketSetup
    /// The context to create the socket in, when not the thread's own.
    let context: ZMQContext?
    let configure: @Sendable (ZMQSocket) throws(ZMQError) -> Void
    let messages: AsyncStream<ZMQMessage>.Continuation
    let events: AsyncStream<SocketEvent>.Continuation
    let completion: CheckedContinuation<Result<Void, ZMQError>, Never>

    func finishStreams() {
        messages.finish()
        events.finish()
    }
}
