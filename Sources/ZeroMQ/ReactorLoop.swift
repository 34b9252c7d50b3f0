import CZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// The body of a ``SocketThread``: owns every socket of that thread and waits on them and on the wake-up pipe with
/// epoll (``EventPoller``). Created, used and released on that one thread only, so it needs no locks.
///
/// ```
///        submit()                    epoll wakes
///  any thread ──► ReactorCore queue ──► pipe readable ──► take commands ──► open / send / perform / close
///                                       ZMQ_FD readable ──► socket marked dirty
///  dirty socket: ZMQ_EVENTS ──► readable ──► receive (batch) ──► inline handler or AsyncStream.yield
///                           ──► writable ──► flush backlog
///  dirty monitor: ZMQ_EVENTS ──► SocketEvent ──► AsyncStream.yield
///  stop requested or ETERM ──► run queued commands ──► close all sockets ──► markStopped
/// ```
///
/// libzmq's `ZMQ_FD` says only that a socket's `ZMQ_EVENTS` may have changed, and says it once: an operation on the
/// socket (a send, a receive, reading `ZMQ_EVENTS`) takes in whatever was pending without a new signal. So a socket
/// is *dirty* after its descriptor fired and after every operation on it; the loop reads `ZMQ_EVENTS` of each dirty
/// socket, acts on it, and keeps it dirty until a reading finds nothing to do, or a receive found nothing (libzmq
/// takes in every pending command before it says so, and nothing waits to be sent). It waits (epoll, no timeout)
/// only when nothing is dirty. A wake-up costs in proportion to the sockets that are ready, however many the thread
/// serves.
final class ReactorLoop {
    /// Messages received from one socket before the loop looks at the others and at the queue again.
    static let receiveBatch = 256
    /// The epoll key of the wake-up pipe; a socket's key is its id times two, plus one for its monitor.
    static let wakeupKey = UInt64.max

    let context: ZMQContext
    let core: ReactorCore
    let poller: EventPoller
    var entries: [Int: SocketEntry] = [:]
    /// Open order, for closing.
    var order: [SocketEntry] = []
    /// What each epoll key names: a socket, or its monitor, and the descriptor registered for it.
    var targets: [UInt64: (entry: SocketEntry, monitor: Bool, descriptor: Int32)] = [:]
    /// Keys whose `ZMQ_EVENTS` must be read before the loop may wait, in the order they became dirty.
    var dirty: [UInt64] = []
    var dirtySet: Set<UInt64> = []
    /// Set when libzmq answered `ETERM`: the context is shutting down.
    var terminated = false

    init(context: ZMQContext, core: ReactorCore, poller: EventPoller) {
        self.context = context
        self.core = core
        self.poller = poller
    }

    func run() {
        var ready = [UInt64](repeating: 0, count: 64)
        do {
            try poller.add(core.wakeup.readDescriptor, key: Self.wakeupKey)
        } catch {
            terminated = true
        }
        while !terminated {
            serviceDirty()
            if terminated { break }
            let count = poller.wait(into: &ready, timeout: dirty.isEmpty ? -1 : 0)
            if count < 0 {
                if errno == EINTR { continue }
                // Any other failure of epoll leaves no way to go on.
                terminated = true
                break
            }
            var woken = false
            for key in ready[0..<count] {
                if key == Self.wakeupKey { woken = true } else { markDirty(key) }
            }
            if woken {
                core.wakeup.drain()
                let (commands, stopping) = core.takeCommands()
                for command in commands { handle(command, stopping: stopping) }
                if stopping { break }
            }
        }
        finish()
    }

    /// Reads `ZMQ_EVENTS` of every dirty socket and monitor and acts on what is ready; what it acted on stays dirty
    /// for the next round.
    private func serviceDirty() {
        guard !dirty.isEmpty else { return }
        let pending = dirty
        dirty.removeAll(keepingCapacity: true)
        dirtySet.removeAll(keepingCapacity: true)
        for key in pending {
            guard let target = targets[key], !target.entry.isClosed else { continue }
            let entry = target.entry
            guard let socket = target.monitor ? entry.monitor : entry.socket, !socket.isClosed else { continue }
            let events: Int16
            do {
                events = try socket.readyEvents()
            } catch {
                if error.isTermination {
                    terminated = true
                    return
                }
                continue
            }
            if target.monitor {
                guard events & Int16(ZMQ_POLLIN) != 0 else { continue }
                drainMonitor(entry)
            } else {
                let writable = events & Int16(ZMQ_POLLOUT) != 0 && entry.hasBacklog
                let readable = events & Int16(ZMQ_POLLIN) != 0
                guard writable || readable else { continue }
                if writable { flushBacklog(entry) }
                if readable, !entry.isClosed, receive(entry), !writable, !entry.hasBacklog {
                    // Drained: the receive that found nothing had libzmq take in every pending command first, so
                    // the descriptor will fire for whatever comes next, and nothing waits to be sent. Reading
                    // ZMQ_EVENTS again would only cost a check for a fork and a poll of the mailbox.
                    if terminated { return }
                    continue
                }
            }
            if terminated { return }
            markDirty(key)
        }
    }

    /// Marks a key dirty (once).
    func markDirty(_ key: UInt64) {
        if dirtySet.insert(key).inserted { dirty.append(key) }
    }

    /// Marks a socket dirty after an operation on it.
    func touched(_ entry: SocketEntry) {
        if !entry.isClosed { markDirty(Self.key(entry.id, monitor: false)) }
    }

    static func key(_ id: Int, monitor: Bool) -> UInt64 {
        UInt64(id) << 1 | (monitor ? 1 : 0)
    }

    /// Closes everything and tells the waiters; runs once, on the way out.
    private func finish() {
        core.beginStopping()
        // Commands queued before the stop still run (sends go out within the linger), except opens.
        let (commands, _) = core.takeCommands()
        for command in commands { handle(command, stopping: true) }
        for entry in order { closeEntry(entry) }
        poller.remove(core.wakeup.readDescriptor)
        core.markStopped()
    }

    private func handle(_ command: ReactorCommand, stopping: Bool) {
        switch command {
        case .open(let request):
            if stopping {
                command.fail(ZMQError(.reactorStopped, operation: "open", message: "the socket thread is stopping"))
            } else {
                open(request)
            }
        case .send(let id, let message, let completion):
            guard let entry = entries[id] else {
                completion?.resume(returning: .failure(closedError("send")))
                return
            }
            send(message, completion: completion, on: entry)
            touched(entry)
        case .perform(let id, let run, let fail):
            guard let entry = entries[id] else { return fail(closedError("perform")) }
            run(entry.socket)
            precondition(!entry.isClosed, "perform must not close the socket; use SocketHandle.close()")
            touched(entry)
        case .close(let id, let completion):
            if let entry = entries[id] { closeEntry(entry) }
            completion?.resume()
        }
    }

    func closedError(_ operation: String) -> ZMQError {
        ZMQError(.socketClosed, operation: operation, message: "the socket is closed")
    }

    /// Creates the socket, sets its linger, attaches the monitor, then lets the caller configure it (options, bind,
    /// connect), so that the monitor sees the very first connection events.
    private func open(_ request: OpenRequest) {
        let socketContext = request.context ?? context
        let socket: ZMQSocket
        do {
            socket = try ZMQSocket(context: socketContext, type: request.setup.type)
        } catch {
            request.finishStreams()
            return request.completion.resume(returning: .failure(error))
        }
        var monitor: ZMQSocket?
        do {
            try socket.setOption(.linger, request.setup.linger)
            if request.setup.monitored { monitor = try attachMonitor(to: socket, in: socketContext) }
            if request.setup.subscriptionGate != nil { try socket.setOption(.xpubManual, true) }
            try request.configure(socket)
            precondition(!socket.isClosed, "configure must not close the socket")
        } catch {
            var failure = error
            if let monitor {
                failure = ReactorLoop.recoverErrno(failure, from: monitor)
                socket.stopMonitor()
                monitor.close()
            }
            socket.close()
            request.finishStreams()
            return request.completion.resume(returning: .failure(failure))
        }
        if monitor == nil { request.events.finish() }
        let entry = SocketEntry(
            id: request.id,
            setup: request.setup,
            socket: socket,
            monitor: monitor,
            messages: request.messages,
            events: request.events
        )
        do {
            try watch(entry)
        } catch {
            if let monitor {
                socket.stopMonitor()
                monitor.close()
            }
            socket.close()
            request.finishStreams()
            return request.completion.resume(returning: .failure(error))
        }
        entries[entry.id] = entry
        order.append(entry)
        request.completion.resume(returning: .success(()))
    }

    /// Registers the socket's and its monitor's notification descriptors with the poller, and marks both dirty (the
    /// setup already operated on them). Registers nothing when it fails.
    private func watch(_ entry: SocketEntry) throws(ZMQError) {
        let socketKey = Self.key(entry.id, monitor: false)
        let socketDescriptor = try entry.socket.notificationDescriptor()
        try poller.add(socketDescriptor, key: socketKey)
        targets[socketKey] = (entry, false, socketDescriptor)
        if let monitor = entry.monitor {
            let monitorKey = Self.key(entry.id, monitor: true)
            do {
                let monitorDescriptor = try monitor.notificationDescriptor()
                try poller.add(monitorDescriptor, key: monitorKey)
                targets[monitorKey] = (entry, true, monitorDescriptor)
            } catch {
                poller.remove(socketDescriptor)
                targets[socketKey] = nil
                throw error
            }
            markDirty(monitorKey)
        }
        markDirty(socketKey)
    }

    /// Stops watching a socket and its monitor, before they are closed (closing frees their descriptors).
    func unwatch(_ entry: SocketEntry) {
        for monitor in [false, true] {
            let key = Self.key(entry.id, monitor: monitor)
            guard let target = targets.removeValue(forKey: key) else { continue }
            poller.remove(target.descriptor)
            dirtySet.remove(key)
        }
    }

    /// libzmq 4.3 reports a failed bind to the monitor before returning, and sending that event overwrites `errno`
    /// with `EAGAIN`; the event itself carries the real errno, so take it from there.
    private static func recoverErrno(_ error: ZMQError, from monitor: ZMQSocket) -> ZMQError {
        guard error.errno == EAGAIN else { return error }
        var real: Int32?
        while let message = try? monitor.receive(flags: .dontWait) {
            if let event = SocketEvent(frames: message.frames), event.kind == .bindFailed {
                real = Int32(truncatingIfNeeded: event.value)
            }
        }
        guard let real else { return error }
        return ZMQError.from(errno: real, operation: error.operation)
    }

    /// Starts the monitor on a fresh inproc endpoint and connects a PAIR reader with no receive limit, so that
    /// libzmq's blocking event sends never stall its I/O thread.
    private func attachMonitor(to socket: ZMQSocket, in context: ZMQContext) throws(ZMQError) -> ZMQSocket {
        let endpoint = context.makeInprocEndpoint("monitor")
        try socket.startMonitor(endpoint: endpoint)
        let reader: ZMQSocket
        do {
            reader = try ZMQSocket(context: context, type: .pair)
        } catch {
            socket.stopMonitor()
            throw error
        }
        do {
            try reader.setOption(.linger, 0)
            try reader.setOption(.rcvhwm, 0)
            try reader.connect(endpoint)
        } catch {
            reader.close()
            socket.stopMonitor()
            throw error
        }
        return reader
    }
}
