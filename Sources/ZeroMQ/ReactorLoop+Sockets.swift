import CZeroMQ

/// One socket of a ``ReactorLoop``, with its monitor reader, its streams and the sends waiting for room.
final class SocketEntry {
    let id: Int
    let setup: SocketSetup
    let socket: ZMQSocket
    let monitor: ZMQSocket?
    let messages: AsyncStream<ZMQMessage>.Continuation
    let events: AsyncStream<SocketEvent>.Continuation
    var backlog: [(message: ZMQMessage, completion: SendCompletion?)] = []
    var backlogHead = 0

    init(
        id: Int,
        setup: SocketSetup,
        socket: ZMQSocket,
        monitor: ZMQSocket?,
        messages: AsyncStream<ZMQMessage>.Continuation,
        events: AsyncStream<SocketEvent>.Continuation
    ) {
        self.id = id
        self.setup = setup
        self.socket = socket
        self.monitor = monitor
        self.messages = messages
        self.events = events
    }

    var hasBacklog: Bool { backlogHead < backlog.count }
    var backlogCount: Int { backlog.count - backlogHead }
    var isClosed: Bool { socket.isClosed }

    func popBacklog() {
        backlogHead += 1
        if backlogHead == backlog.count {
            backlog.removeAll(keepingCapacity: true)
            backlogHead = 0
        } else if backlogHead >= 64 && backlogHead * 2 >= backlog.count {
            backlog.removeFirst(backlogHead)
            backlogHead = 0
        }
    }
}

extension ReactorLoop {
    /// Sends now if nothing is waiting and libzmq takes it; otherwise queues it or reports "would block", as the
    /// socket's setup says. Returns false when the message was neither sent nor queued (the completion, if any, says
    /// why).
    @discardableResult
    func send(_ message: ZMQMessage, completion: SendCompletion?, on entry: SocketEntry) -> Bool {
        if !entry.hasBacklog, let sent = attempt(message, completion: completion, on: entry) { return sent }
        guard entry.setup.queueWhenBlocked else {
            completion?.resume(returning: .success(.wouldBlock))
            return false
        }
        guard entry.backlogCount < entry.setup.backlogLimit else {
            let error = ZMQError(
                .resourceExhausted,
                operation: "send",
                message: "\(entry.backlogCount) messages already wait for the \(entry.setup.type) socket"
            )
            completion?.resume(returning: .failure(error))
            return false
        }
        entry.backlog.append((message, completion))
        return true
    }

    /// A send from an ``InlineHandler``: ``send(_:completion:on:)`` on a socket that may be closed, which then counts
    /// as used.
    func sendInline(_ message: ZMQMessage, on entry: SocketEntry) -> Bool {
        guard !entry.isClosed else { return false }
        defer { touched(entry) }
        return send(message, completion: nil, on: entry)
    }

    /// One non-blocking send: true when sent, false when it failed, `nil` when libzmq would block.
    private func attempt(_ message: ZMQMessage, completion: SendCompletion?, on entry: SocketEntry) -> Bool? {
        do {
            switch try entry.socket.send(message, flags: .dontWait) {
            case .sent:
                completion?.resume(returning: .success(.sent))
                return true
            case .wouldBlock:
                return nil
            }
        } catch {
            if error.isTermination { terminated = true }
            completion?.resume(returning: .failure(error))
            return false
        }
    }

    /// Sends waiting messages, in order, until libzmq would block again.
    func flushBacklog(_ entry: SocketEntry) {
        while entry.hasBacklog {
            let pending = entry.backlog[entry.backlogHead]
            guard attempt(pending.message, completion: pending.completion, on: entry) != nil else { return }
            entry.popBacklog()
        }
    }

    /// Receives up to ``ReactorLoop/receiveBatch`` messages and hands them to the socket's stream, or its inline
    /// handler; true when a receive found none (the socket is drained). A failing socket (other than at shutdown)
    /// is closed, which ends its streams.
    @discardableResult
    func receive(_ entry: SocketEntry) -> Bool {
        do {
            for _ in 0..<ReactorLoop.receiveBatch {
                guard let message = try entry.socket.receive(flags: .dontWait) else { return true }
                if let gate = entry.setup.subscriptionGate {
                    judge(message, by: gate, on: entry)
                    continue
                }
                if let budget = entry.setup.inboundBudget, !budget.charge(message) { continue }
                if let handler = entry.setup.inlineHandler {
                    guard let handed = handler.handle(message, sockets: InlineSockets(loop: self)) else { continue }
                    entry.messages.yield(handed)
                } else {
                    entry.messages.yield(message)
                }
            }
        } catch {
            if error.isTermination {
                terminated = true
            } else if error.errno != EFSM {
                // EFSM: a REQ or REP socket whose turn it is to send; not a failure.
                closeEntry(entry)
            }
        }
        return false
    }

    /// A subscription message on a manual XPUB: registered, removed, ignored, or its connection cut, as the gate
    /// says. Runs before the next receive, since `ZMQ_SUBSCRIBE` applies to the pipe of the last message received.
    /// A failing `setsockopt` (the pipe gone meanwhile) leaves the socket as it is.
    private func judge(_ message: ZMQMessage, by gate: SubscriptionGate, on entry: SocketEntry) {
        let (verdict, topic) = gate.admit(message)
        switch verdict {
        case .subscribe: try? entry.socket.setOption(.subscribe, topic)
        case .unsubscribe: try? entry.socket.setOption(.unsubscribe, topic)
        case .ignore: break
        case .cut: if let descriptor = message.sourceDescriptor { PeerConnection(descriptor: descriptor)?.cut() }
        }
    }

    /// Reads every queued monitor event into the socket's event stream (a subscription gate learns of closed
    /// connections first).
    func drainMonitor(_ entry: SocketEntry) {
        guard let monitor = entry.monitor, !monitor.isClosed else { return }
        while let message = try? monitor.receive(flags: .dontWait) {
            guard let event = SocketEvent(frames: message.frames) else { continue }
            if let gate = entry.setup.subscriptionGate, event.kind == .closed || event.kind == .disconnected {
                gate.closed(descriptor: Int32(truncatingIfNeeded: event.value))
            }
            entry.events.yield(event)
        }
    }

    /// Closes a socket for good: fails its waiting sends, stops its monitor (whose last event is
    /// ``SocketEvent/Kind/monitorStopped``), closes it (linger applies in the background) and ends its streams.
    func closeEntry(_ entry: SocketEntry) {
        guard !entry.isClosed else { return }
        while entry.hasBacklog {
            entry.backlog[entry.backlogHead].completion?.resume(returning: .failure(closedError("send")))
            entry.popBacklog()
        }
        if let monitor = entry.monitor {
            drainMonitor(entry)
            entry.socket.stopMonitor()
            drainMonitor(entry)
            unwatch(entry)
            monitor.close()
        } else {
            unwatch(entry)
        }
        entry.socket.close()
        entry.messages.finish()
        entry.events.finish()
        entries[entry.id] = nil
        order.removeAll { $0 === entry }
    }
}
