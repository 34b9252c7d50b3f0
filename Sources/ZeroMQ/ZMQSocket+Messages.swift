import CZeroMQ

extension ZMQSocket {
    /// Sends all frames of `message` as one multipart message (`zmq_send`, `ZMQ_SNDMORE` on all but the last).
    ///
    /// Returns ``SendResult/wouldBlock`` (`EAGAIN` with ``SendFlags/dontWait``) without sending anything; libzmq
    /// takes multipart messages atomically, so once the first frame is in, the rest follow. Throws ``ZMQError``, e.g.
    /// ``ZMQError/Code/hostUnreachable`` for an unknown routing id with `routerMandatory`, or
    /// ``ZMQError/Code/contextTerminated`` during shutdown.
    @discardableResult
    public func send(_ message: ZMQMessage, flags: SendFlags = []) throws(ZMQError) -> SendResult {
        try send(frames: message.frames, flags: flags)
    }

    /// Sends `frames` as one multipart message; see ``send(_:flags:)``.
    @discardableResult
    public func send(frames: [[UInt8]], flags: SendFlags = []) throws(ZMQError) -> SendResult {
        precondition(!frames.isEmpty, "a ZeroMQ message has at least one frame")
        let handle = requireHandle("send")
        for (index, frame) in frames.enumerated() {
            let more = index < frames.count - 1
            let cFlags = flags.rawValue | (more ? ZMQ_SNDMORE : 0)
            while true {
                let rc = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, cFlags) }
                if rc >= 0 { break }
                let number = zmq_errno()
                if number == EINTR { continue }
                if number == EAGAIN {
                    // Only the first frame can be refused: libzmq counts a multipart message as one.
                    guard index == 0 else {
                        throw ZMQError(
                            .system,
                            operation: "zmq_send",
                            message: "libzmq refused frame \(index) of a multipart message",
                            errno: number
                        )
                    }
                    return .wouldBlock
                }
                throw ZMQError.from(errno: number, operation: "zmq_send")
            }
        }
        return .sent
    }

    /// Receives one whole multipart message, or `nil` when ``ReceiveFlags/dontWait`` is given and nothing is queued
    /// (`EAGAIN` is a value, not an error). Without `dontWait` this blocks: never call it on Swift's cooperative pool.
    /// The message carries the connection's `User-Id` and `Peer-Address` metadata.
    public func receive(flags: ReceiveFlags = []) throws(ZMQError) -> ZMQMessage? {
        let handle = requireHandle("receive")
        var message = ZMQMessage(frames: [], userId: nil, peerAddress: nil)
        // The first frame decides; the rest of a multipart message has arrived with it and never blocks.
        guard var more = try receiveFrame(handle, flags: flags.rawValue, into: &message) else { return nil }
        while more {
            more = try receiveFrame(handle, flags: 0, into: &message) ?? false
        }
        return message
    }

    /// Receives one frame into `message`: `nil` on `EAGAIN`, otherwise whether more frames follow.
    /// The `zmq_msg_t` lives only inside this function: init, receive, copy the bytes out, close.
    private func receiveFrame(
        _ handle: UnsafeMutableRawPointer,
        flags: Int32,
        into message: inout ZMQMessage
    ) throws(ZMQError) -> Bool? {
        // Heap storage keeps the address stable: a small message's bytes live inside the zmq_msg_t itself.
        let msg = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        defer { msg.deallocate() }
        zmq_msg_init(msg)
        defer { zmq_msg_close(msg) }
        while zmq_msg_recv(msg, handle, flags) < 0 {
            let number = zmq_errno()
            if number == EINTR { continue }
            if number == EAGAIN { return nil }
            throw ZMQError.from(errno: number, operation: "zmq_msg_recv")
        }
        let size = zmq_msg_size(msg)
        if size == 0 {
            message.frames.append([])
        } else {
            message.frames.append(Array(UnsafeRawBufferPointer(start: zmq_msg_data(msg), count: size)))
        }
        if message.userId == nil, let value = zmq_msg_gets(msg, "User-Id") {
            message.userId = String(cString: value)
        }
        if message.peerAddress == nil, let value = zmq_msg_gets(msg, "Peer-Address") {
            message.peerAddress = String(cString: value)
        }
        if message.sourceDescriptor == nil, let value = zmq_msg_gets(msg, "__fd"),
            let fd = Int32(String(cString: value))
        {
            message.sourceDescriptor = fd
        }
        return zmq_msg_more(msg) != 0
    }

    /// `zmq_poll` on this socket alone: waits up to `timeoutMilliseconds` (-1 = forever) for `events` and returns
    /// those that are ready. Blocks the calling thread: only for code on a thread of its own.
    public func poll(_ events: PollEvents, timeoutMilliseconds: Int) throws(ZMQError) -> PollEvents {
        var item = zmq_pollitem_t(socket: requireHandle("poll"), fd: 0, events: events.rawValue, revents: 0)
        while zmq_poll(&item, 1, timeoutMilliseconds) < 0 {
            let number = zmq_errno()
            if number == EINTR { continue }
            throw ZMQError.from(errno: number, operation: "zmq_poll")
        }
        return PollEvents(rawValue: item.revents)
    }
}
