import CZeroMQ

/// The body of a ``SocketThread``: owns every socket of that thread and runs `zmq_poll` over them and the wake-up
/// pipe. Created, used and released on that one thread only, so it needs no locks.
///
/// ```
///        submit()                    zmq_poll wakes
///  any thread ──► ReactorCore queue ──► pipe readable ──► take commands ──► open / send / perform / close
///                                       socket readable ──► receive (batch) ──► AsyncStream.yield
///                                       socket writable ──► flush backlog
///                                       monitor readable ──► SocketEvent ──► AsyncStream.yield
///  stop requested or ETERM ──► run queued commands ──► close all sockets ──► markStopped
/// ```
final class ReactorLoop {
    /// Messages received from one socket before the loop looks at the others and at the queue again.
    static let receiveBatch = 256

    let context: ZMQContext
    let core: ReactorCore
    var entries: [Int: SocketEntry] = [:]
    /// Poll order: entry `i` owns poll items `targets` maps to.
    var order: [SocketEntry] = []
    var items: [zmq_pollitem_t] = []
    var targets: [(entry: SocketEntry, monitor: Bool)] = []
    var itemsStale = true
    /// Set when libzmq answered `ETERM`: the context is shutting down.
    var terminated = false

    init(context: ZMQContext, core: ReactorCore) {
        self.context = context
        self.core = core
    }

    func run() {
        while !terminated {
            if itemsStale { rebuildItems() }
            for index in targets.indices where !targets[index].monitor {
                let entry = targets[index].entry
                items[index + 1].events = Int16(ZMQ_POLLIN) | (entry.hasBacklog ? Int16(ZMQ_POLLOUT) : 0)
            }
            let count = zmq_poll(&items, Int32(items.count), -1)
            if count < 0 {
                let number = zmq_errno()
                if number == EINTR { continue }
                // ETERM is the normal way out; any other poll failure leaves no way to go on.
                terminated = true
                break
            }
            // Sockets first, while the poll items still match the entries; commands may close entries.
            let ready = targets.indices.filter { items[$0 + 1].revents != 0 }.map {
                (targets[$0], items[$0 + 1].revents)
            }
            for (target, revents) in ready where !target.entry.isClosed {
                if target.monitor {
                    drainMonitor(target.entry)
                } else {
                    if revents & Int16(ZMQ_POLLOUT) != 0 { flushBacklog(target.entry) }
                    if revents & Int16(ZMQ_POLLIN) != 0 { receive(target.entry) }
                }
            }
            if items[0].revents != 0 {
                core.wakeup.drain()
                let (commands, stopping) = core.takeCommands()
                for command in commands { handle(command, stopping: stopping) }
                if stopping { break }
            }
        }
        finish()
    }

    /// Closes everything and tells the waiters; runs once, on the way out.
    private func finish() {
        core.beginStopping()
        // Commands queued before the stop still run (sends go out within the linger), except opens.
        let (commands, _) = core.takeCommands()
        for command in commands { handle(command, stopping: true) }
        for entry in order { closeEntry(entry) }
        core.markStopped()
    }

    private func rebuildItems() {
        items = [zmq_pollitem_t(socket: nil, fd: core.wakeup.readDescriptor, events: Int16(ZMQ_POLLIN), revents: 0)]
        targets = []
        for entry in order {
            items.append(zmq_pollitem_t(socket: entry.socket.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0))
            targets.append((entry, false))
            if let monitor = entry.monitor {
                items.append(zmq_pollitem_t(socket: monitor.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0))
                targets.append((entry, true))
            }
        }
        itemsStale = false
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
        case .perform(let id, let run, let fail):
            guard let entry = entries[id] else { return fail(closedError("perform")) }
            run(entry.socket)
            precondition(!entry.isClosed, "perform must not close the socket; use SocketHandle.close()")
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
        entries[entry.id] = entry
        order.append(entry)
        itemsStale = true
        request.completion.resume(returning: .success(()))
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
