import CZeroMQ

/// The ZeroMQ socket patterns this project uses, with their C constants (`ZMQ_DEALER`, ...).
public enum SocketType: Sendable, Hashable, CustomStringConvertible {
    /// `ZMQ_PAIR`: exclusive pair, used for inproc plumbing.
    case pair
    /// `ZMQ_PUB`
    case pub
    /// `ZMQ_SUB`
    case sub
    /// `ZMQ_REQ`
    case req
    /// `ZMQ_REP`
    case rep
    /// `ZMQ_DEALER`: the agent's command socket.
    case dealer
    /// `ZMQ_ROUTER`: the master's command socket; received messages start with the peer's routing id.
    case router
    /// `ZMQ_PULL`
    case pull
    /// `ZMQ_PUSH`
    case push
    /// `ZMQ_XPUB`: the master's monitor fan-out.
    case xpub
    /// `ZMQ_XSUB`
    case xsub

    var rawValue: Int32 {
        switch self {
        case .pair: ZMQ_PAIR
        case .pub: ZMQ_PUB
        case .sub: ZMQ_SUB
        case .req: ZMQ_REQ
        case .rep: ZMQ_REP
        case .dealer: ZMQ_DEALER
        case .router: ZMQ_ROUTER
        case .pull: ZMQ_PULL
        case .push: ZMQ_PUSH
        case .xpub: ZMQ_XPUB
        case .xsub: ZMQ_XSUB
        }
    }

    public var description: String {
        switch self {
        case .pair: "PAIR"
        case .pub: "PUB"
        case .sub: "SUB"
        case .req: "REQ"
        case .rep: "REP"
        case .dealer: "DEALER"
        case .router: "ROUTER"
        case .pull: "PULL"
        case .push: "PUSH"
        case .xpub: "XPUB"
        case .xsub: "XSUB"
        }
    }
}

/// Flags for ``ZMQSocket/send(_:flags:)`` (`ZMQ_DONTWAIT`).
public struct SendFlags: OptionSet, Sendable, Hashable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// `ZMQ_DONTWAIT`: return ``SendResult/wouldBlock`` instead of waiting for room in the queue.
    public static let dontWait = SendFlags(rawValue: ZMQ_DONTWAIT)
}

/// Flags for ``ZMQSocket/receive(flags:)`` (`ZMQ_DONTWAIT`).
public struct ReceiveFlags: OptionSet, Sendable, Hashable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// `ZMQ_DONTWAIT`: return `nil` instead of waiting for a message.
    public static let dontWait = ReceiveFlags(rawValue: ZMQ_DONTWAIT)
}

/// The outcome of a send that did not fail: queued, or "would block" (`EAGAIN`) as a value, never an error.
public enum SendResult: Sendable, Hashable {
    /// libzmq took the whole message.
    case sent
    /// `EAGAIN`: the queue is full (high-water mark) or there is no peer yet; nothing was sent.
    case wouldBlock
}

/// Readiness bits of `zmq_poll` and `ZMQ_EVENTS` (`ZMQ_POLLIN`, `ZMQ_POLLOUT`, `ZMQ_POLLERR`).
public struct PollEvents: OptionSet, Sendable, Hashable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }
    /// `ZMQ_POLLIN`: at least one message can be received without blocking.
    public static let readable = PollEvents(rawValue: Int16(ZMQ_POLLIN))
    /// `ZMQ_POLLOUT`: at least one message can be sent without blocking.
    public static let writable = PollEvents(rawValue: Int16(ZMQ_POLLOUT))
    /// `ZMQ_POLLERR`: an error condition on a raw file descriptor.
    public static let error = PollEvents(rawValue: Int16(ZMQ_POLLERR))
}
