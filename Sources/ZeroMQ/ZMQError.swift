import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one error type of the ZeroMQ module: a stable `code` to switch on, the operation that failed and, when libzmq
/// or the system reported it, the C `errno`.
///
/// "Would block" (`EAGAIN`) is never thrown: send and receive return it as a value. `ETERM` is thrown as
/// ``Code/contextTerminated`` and means the context is shutting down; the reactor and the ZAP handler take it as their
/// normal way out (``isTermination``).
public struct ZMQError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An extensible error code (new codes may be added; do not switch exhaustively).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// `ETERM`: the context was shut down or terminated; stop using its sockets and close them.
        public static let contextTerminated = Code("context_terminated")
        /// `EINVAL`, `EFAULT`: libzmq refused an argument (an unknown option, a malformed endpoint, a bad key).
        public static let invalidArgument = Code("invalid_argument")
        /// `EADDRINUSE`: the address to bind is taken.
        public static let addressInUse = Code("address_in_use")
        /// `EADDRNOTAVAIL`, `ENODEV`, `ENOENT` on unbind/disconnect: the address is not local or not bound/connected.
        public static let addressNotAvailable = Code("address_not_available")
        /// `EPROTONOSUPPORT`, `ENOCOMPATPROTO`: the transport is unknown or does not fit the socket type.
        public static let protocolNotSupported = Code("protocol_not_supported")
        /// `EHOSTUNREACH`: a ROUTER with `routerMandatory` has no peer with that routing id.
        public static let hostUnreachable = Code("host_unreachable")
        /// `EFSM`, `ENOTSUP`: the operation is not allowed in the socket's state or for its type.
        public static let notSupported = Code("not_supported")
        /// `EMFILE`, `ENOMEM`: out of file descriptors, sockets or memory.
        public static let resourceExhausted = Code("resource_exhausted")
        /// Any other `errno` from libzmq or a system call.
        public static let system = Code("system")
        /// This libzmq was built without CURVE (`zmq_has("curve")` is 0).
        public static let curveUnavailable = Code("curve_unavailable")
        /// A key is not 32 bytes, or its Z85 text is not 40 valid characters.
        public static let invalidKey = Code("invalid_key")
        /// A certificate file is not in the ZPL format or lacks its keys.
        public static let invalidCertificate = Code("invalid_certificate")
        /// A certificate or allow-list file could not be read or written.
        public static let io = Code("io")
        /// A CURVE server socket tried to bind while no ZAP handler runs in its context: it would accept every key.
        public static let zapHandlerMissing = Code("zap_handler_missing")
        /// Another ZAP handler is already bound in this context (`inproc://zeromq.zap.01` is taken).
        public static let zapHandlerAlreadyRunning = Code("zap_handler_already_running")
        /// The socket thread has stopped (or is stopping) and takes no more work.
        public static let reactorStopped = Code("reactor_stopped")
        /// The socket was closed before the operation could run.
        public static let socketClosed = Code("socket_closed")
    }

    public var code: Code
    /// What was being done, e.g. `"bind tcp://127.0.0.1:8771"` or `"zmq_msg_send"`.
    public var operation: String
    /// Human-readable detail (`zmq_strerror` where libzmq reported it). Not stable: never match on it.
    public var message: String
    /// The C `errno`, when libzmq or a system call reported the failure.
    public var errno: Int32?

    public init(_ code: Code, operation: String, message: String, errno: Int32? = nil) {
        self.code = code
        self.operation = operation
        self.message = message
        self.errno = errno
    }

    /// True for `ETERM`: the context is going away and the caller should close its sockets and stop quietly.
    public var isTermination: Bool { code == .contextTerminated }

    public var description: String {
        var text = "zmq error \(code) during \(operation): \(message)"
        if let errno { text += " (errno \(errno))" }
        return text
    }
}

extension ZMQError {
    /// The error for the `errno` libzmq just set, mapped to a stable code.
    static func last(_ operation: String) -> ZMQError {
        from(errno: zmq_errno(), operation: operation)
    }

    /// The error for a given `errno` (from libzmq or a system call).
    static func from(errno number: Int32, operation: String) -> ZMQError {
        let code: Code
        switch number {
        case ETERM: code = .contextTerminated
        case EINVAL, EFAULT: code = .invalidArgument
        case EADDRINUSE: code = .addressInUse
        case EADDRNOTAVAIL, ENODEV, ENOENT: code = .addressNotAvailable
        case EPROTONOSUPPORT, ENOCOMPATPROTO: code = .protocolNotSupported
        case EHOSTUNREACH: code = .hostUnreachable
        case EFSM, ENOTSUP: code = .notSupported
        case EMFILE, ENOMEM, ENOBUFS: code = .resourceExhausted
        default: code = .system
        }
        return ZMQError(code, operation: operation, message: String(cString: zmq_strerror(number)), errno: number)
    }
}
