import CZeroMQ

/// A socket monitor event (`zmq_socket_monitor`, version 1 framing): what happened to a connection of a monitored
/// socket, with the event's value and the endpoint it concerns.
///
/// A client refused by the ZAP handler learns it only this way (``Kind/handshakeFailedAuth``), and so does a server
/// whose client sent garbage or the wrong mechanism (``Kind/handshakeFailedProtocol``).
public struct SocketEvent: Sendable, Hashable, CustomStringConvertible {
    /// The event type (`ZMQ_EVENT_*`).
    public enum Kind: Sendable, Hashable {
        /// `ZMQ_EVENT_CONNECTED`: a TCP connection is up (before the ZMTP handshake); value = fd.
        case connected
        /// `ZMQ_EVENT_CONNECT_DELAYED`: a connect is in progress; value = errno.
        case connectDelayed
        /// `ZMQ_EVENT_CONNECT_RETRIED`: a reconnect is scheduled; value = the interval in milliseconds.
        case connectRetried
        /// `ZMQ_EVENT_LISTENING`: a bind succeeded; value = fd.
        case listening
        /// `ZMQ_EVENT_BIND_FAILED`: value = errno.
        case bindFailed
        /// `ZMQ_EVENT_ACCEPTED`: a listener accepted a TCP connection; value = fd.
        case accepted
        /// `ZMQ_EVENT_ACCEPT_FAILED`: value = errno.
        case acceptFailed
        /// `ZMQ_EVENT_CLOSED`: a connection's descriptor was closed; value = fd.
        case closed
        /// `ZMQ_EVENT_CLOSE_FAILED`: value = errno.
        case closeFailed
        /// `ZMQ_EVENT_DISCONNECTED`: an established session ended (peer gone, heartbeat timeout, oversize message).
        case disconnected
        /// `ZMQ_EVENT_MONITOR_STOPPED`: the last event of a monitor.
        case monitorStopped
        /// `ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL`: the handshake failed for a system reason; value = errno.
        case handshakeFailedNoDetail
        /// `ZMQ_EVENT_HANDSHAKE_SUCCEEDED`: ZMTP and CURVE handshake (and ZAP, when used) completed.
        case handshakeSucceeded
        /// `ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL`: a protocol error (wrong mechanism, bad key, bad command); value =
        /// a `ZMQ_PROTOCOL_ERROR_*` code.
        case handshakeFailedProtocol
        /// `ZMQ_EVENT_HANDSHAKE_FAILED_AUTH`: the ZAP handler refused the client; value = the ZAP status (400).
        case handshakeFailedAuth
        /// An event number this code does not know.
        case unknown(UInt16)

        init(rawValue: UInt16) {
            switch Int32(rawValue) {
            case ZMQ_EVENT_CONNECTED: self = .connected
            case ZMQ_EVENT_CONNECT_DELAYED: self = .connectDelayed
            case ZMQ_EVENT_CONNECT_RETRIED: self = .connectRetried
            case ZMQ_EVENT_LISTENING: self = .listening
            case ZMQ_EVENT_BIND_FAILED: self = .bindFailed
            case ZMQ_EVENT_ACCEPTED: self = .accepted
            case ZMQ_EVENT_ACCEPT_FAILED: self = .acceptFailed
            case ZMQ_EVENT_CLOSED: self = .closed
            case ZMQ_EVENT_CLOSE_FAILED: self = .closeFailed
            case ZMQ_EVENT_DISCONNECTED: self = .disconnected
            case ZMQ_EVENT_MONITOR_STOPPED: self = .monitorStopped
            case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: self = .handshakeFailedNoDetail
            case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: self = .handshakeSucceeded
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: self = .handshakeFailedProtocol
            case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: self = .handshakeFailedAuth
            default: self = .unknown(rawValue)
            }
        }
    }

    public let kind: Kind
    /// The event's value: a descriptor, an errno, a retry interval, a ZAP status or a protocol error code.
    public let value: UInt32
    /// The endpoint the event concerns (empty for ``Kind/monitorStopped``).
    public let endpoint: String

    public init(kind: Kind, value: UInt32, endpoint: String) {
        self.kind = kind
        self.value = value
        self.endpoint = endpoint
    }

    /// Decodes the two frames a version-1 monitor sends: 6 bytes (16-bit event, 32-bit value, host byte order) and
    /// the endpoint text. `nil` for anything else.
    init?(frames: [[UInt8]]) {
        guard frames.count == 2, frames[0].count == 6 else { return nil }
        let (event, value) = frames[0].withUnsafeBytes {
            ($0.loadUnaligned(as: UInt16.self), $0.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        }
        self.init(kind: Kind(rawValue: event), value: value, endpoint: String(decoding: frames[1], as: UTF8.self))
    }

    /// True for the three handshake failures.
    public var isHandshakeFailure: Bool {
        switch kind {
        case .handshakeFailedAuth, .handshakeFailedProtocol, .handshakeFailedNoDetail: true
        default: false
        }
    }

    public var description: String { "\(kind)(\(value)) \(endpoint)" }
}
