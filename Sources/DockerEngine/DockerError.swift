/// A failure talking to the Docker Engine, with a stable `code` callers switch on and Docker's own message verbatim.
///
/// The agent forwards `message` to the master as `details.docker`; nothing should ever parse it, except the
/// last-resort retry classification in ``isTransient``.
public struct DockerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as a stable machine-readable value.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The socket is missing, refused the connection, or the connection was reset or closed mid-request.
        public static let unavailable = Code(rawValue: "unavailable")
        /// HTTP 404: no such container, network or image.
        public static let notFound = Code(rawValue: "notFound")
        /// HTTP 409 (and 403): a name is taken, or the object is in use or in the wrong state for the operation
        /// (Docker answers 403 to removing a network that still has endpoints).
        public static let conflict = Code(rawValue: "conflict")
        /// HTTP 304: the operation had nothing to do (container already started or already stopped).
        public static let notModified = Code(rawValue: "notModified")
        /// HTTP 400 (and any other 4xx but 403, 404 and 409): Docker refused the request as malformed or invalid.
        public static let badRequest = Code(rawValue: "badRequest")
        /// HTTP 5xx: the daemon failed while handling the request.
        public static let server = Code(rawValue: "server")
        /// The daemon answered something this client cannot understand (bad HTTP, bad JSON, unexpected status).
        public static let `protocol` = Code(rawValue: "protocol")
        /// No answer within the connect or read timeout.
        public static let timeout = Code(rawValue: "timeout")
        /// The calling task was cancelled or the client was shut down.
        public static let cancelled = Code(rawValue: "cancelled")
        /// `DOCKER_HOST` names a transport other than a unix socket, or the daemon's API is older than 1.40.
        public static let unsupported = Code(rawValue: "unsupported")
        /// An image build ran but reported an error in its output stream.
        public static let buildFailed = Code(rawValue: "buildFailed")
        /// A build context could not be archived (path too long for ustar, unreadable or special file).
        public static let invalidContext = Code(rawValue: "invalidContext")

        public var description: String { rawValue }
    }

    public var code: Code
    /// The HTTP status of Docker's answer, when there was one.
    public var status: Int?
    /// The request that failed, as `METHOD /path` without the API version prefix or query, e.g.
    /// `POST /containers/x/start`.
    public var operation: String
    /// Docker's own `message` (verbatim) or a description of the local failure.
    public var message: String

    public init(_ code: Code, status: Int? = nil, operation: String, message: String) {
        self.code = code
        self.status = status
        self.operation = operation
        self.message = message
    }

    public var description: String {
        var text = "\(operation): \(message) [\(code)"
        if let status { text += " \(status)" }
        return text + "]"
    }

    /// The error code Docker's HTTP status maps to; `nil` for a success status.
    public static func code(forStatus status: Int) -> Code? {
        switch status {
        case 200..<300: return nil
        case 304: return .notModified
        case 400: return .badRequest
        case 403, 409: return .conflict
        case 404: return .notFound
        case 401..<500: return .badRequest
        case 500..<600: return .server
        default: return .protocol
        }
    }
}

extension DockerError {
    /// Whether retrying the same operation later may succeed: an unreachable daemon, a timeout, or a 5xx that is not
    /// a missing or refused image.
    ///
    /// Status codes decide first; only a 5xx body is inspected, for the permanent markers of the seed's retry policy
    /// (`manifest unknown`, `pull access denied`, `not found`, ...), because the daemon reports a failed pull as 500.
    public var isTransient: Bool {
        switch code {
        case .unavailable, .timeout:
            return true
        case .server:
            let lowered = message.lowercased()
            return !Self.permanentServerMarkers.contains { lowered.contains($0) }
        default:
            return false
        }
    }

    /// Fragments of 5xx messages that mean the failure will repeat: the image does not exist or cannot be pulled.
    static let permanentServerMarkers = [
        "no such image", "manifest unknown", "manifest for", "not found", "pull access denied",
        "repository does not exist",
    ]
}
