import DecnetJSON

/// The stable error codes of a failed `result`, each with the status number DECNET's HTTP agent would have used.
/// Masters switch on the code, never on the message.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Not JSON, not an object, a member missing or of the wrong type; `details.path`.
    public static let badRequest = ErrorCode(rawValue: "bad_request")
    /// `proto` is not 1; `details.supported`.
    public static let unsupportedProto = ErrorCode(rawValue: "unsupported_proto")
    /// `type` is not a request type.
    public static let unknownType = ErrorCode(rawValue: "unknown_type")
    /// `details.expected` (sent) and `details.actual` (computed).
    public static let hashMismatch = ErrorCode(rawValue: "hash_mismatch")
    /// `details.issues`: the validator's issues.
    public static let invalidTopology = ErrorCode(rawValue: "invalid_topology")
    /// Another topology is applied; `details.applied_topology_id`.
    public static let conflict = ErrorCode(rawValue: "conflict")
    /// Colliding or bound host ports; `details.ports`.
    public static let portConflict = ErrorCode(rawValue: "port_conflict")
    /// An apply or teardown is running; `details.running`.
    public static let busy = ErrorCode(rawValue: "busy")
    /// The request id was already used for a different request.
    public static let idReused = ErrorCode(rawValue: "id_reused")
    /// The envelope is over the size limit.
    public static let tooLarge = ErrorCode(rawValue: "too_large")
    /// Docker refused or failed; `details.phase`, `details.docker`.
    public static let runtimeError = ErrorCode(rawValue: "runtime_error")
    /// The Docker Engine cannot be reached.
    public static let dockerUnavailable = ErrorCode(rawValue: "docker_unavailable")
    /// The state directory was removed or replaced under the running agent: nothing could be recorded, so apply and
    /// teardown are refused until it is back (the agent then re-opens its store and re-takes its lock).
    public static let stateUnavailable = ErrorCode(rawValue: "state_unavailable")
    /// The agent cannot rotate its key: no rotation here, its key folder is not writable, or `activate` came before
    /// `prepare` (docs/wire-protocol.md#rotate-key).
    public static let keyRotationFailed = ErrorCode(rawValue: "key_rotation_failed")
    /// Anything else; the agent keeps running.
    public static let `internal` = ErrorCode(rawValue: "internal")

    public static let all: [ErrorCode] = [
        .badRequest, .unsupportedProto, .unknownType, .hashMismatch, .invalidTopology, .conflict, .portConflict,
        .busy, .idReused, .tooLarge, .runtimeError, .dockerUnavailable, .stateUnavailable, .keyRotationFailed,
        .internal,
    ]

    /// The status number that goes with the code.
    public var status: Int {
        switch self {
        case .conflict, .portConflict, .busy, .idReused: return 409
        case .tooLarge: return 413
        case .runtimeError, .internal, .keyRotationFailed: return 500
        case .dockerUnavailable, .stateUnavailable: return 503
        default: return 400
        }
    }

    public var description: String { rawValue }
}

/// A failure answered to the master: code, human message, and structured details.
public struct AgentError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    public var details: JSONObject

    public init(_ code: ErrorCode, _ message: String, details: JSONObject = JSONObject()) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var status: Int { code.status }

    /// `{"code", "message", "details"}`.
    public var jsonValue: JSONValue {
        let pairs: [(JSONString, JSONValue)] = [
            ("code", .string(JSONString(code.rawValue))),
            ("message", .string(JSONString(message))),
            ("details", .object(details)),
        ]
        return .object(JSONObject(pairs))
    }

    public var description: String { "[\(code.rawValue)] \(message)" }

    public static func badRequest(_ message: String, path: String) -> AgentError {
        AgentError(.badRequest, message, details: ["path": .string(JSONString(path))])
    }
}
