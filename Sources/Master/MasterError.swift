/// The one error type of the master: a stable `code` to switch on, what was being done, and a message for people.
///
/// Environment problems (a missing key, a port in use, a ZAP handler that did not start) are thrown as this; a
/// request the master cannot deliver in time is reported with ``Code/timeout``.
public struct MasterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An extensible error code (new codes may be added; do not switch exhaustively).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The ZAP handler did not start or is not running: the master refuses to open CURVE servers without it.
        public static let zapHandler = Code("zap_handler")
        /// A key or certificate is missing, unreadable, of the wrong role, or readable by others.
        public static let keys = Code("keys")
        /// The master's directory (or its `agents/`, `monitors/`) is missing or unusable.
        public static let directory = Code("directory")
        /// Another master already serves this directory (its lock file is held).
        public static let locked = Code("locked")
        /// A socket could not be created, configured or bound.
        public static let socket = Code("socket")
        /// A request got no result before its deadline.
        public static let timeout = Code("timeout")
        /// A request or control message is malformed.
        public static let badRequest = Code("bad_request")
        /// A request id was already used for a different request to the same agent.
        public static let idReused = Code("id_reused")
        /// No master answers on the control channel.
        public static let notServing = Code("not_serving")
        /// The master is shutting down.
        public static let shutdown = Code("shutdown")
        /// A file could not be written (keygen).
        public static let io = Code("io")
        /// The agent has no key in `agents/`: nothing is sent to it.
        public static let notEnrolled = Code("not_enrolled")
        /// The agent's key was removed or replaced while the request was outstanding.
        public static let revoked = Code("revoked")
        /// No result in time, but the agent received the request and may still carry it out: its outcome is
        /// unknown (fetch it later by re-sending the same request id).
        public static let pending = Code("pending")
        /// A key selector (agent id or fingerprint) names no key, or more than one (docs/security.md#enrolment).
        public static let noSuchKey = Code("no_such_key")
        /// The master's store holds no request with this id for the agent (docs/control-channel.md#request).
        public static let unknownRequest = Code("unknown_request")
        /// The operation conflicts with what is on disk (an id already taken, a key already accepted).
        public static let conflict = Code("conflict")
    }

    public var code: Code
    /// What was being done, e.g. `"bind tcp://0.0.0.0:8771"`.
    public var operation: String
    /// Human-readable detail. Not stable: never match on it.
    public var message: String

    public init(_ code: Code, operation: String, message: String) {
        self.code = code
        self.operation = operation
        self.message = message
    }

    public var description: String { "\(operation): \(message) [\(code)]" }
}
