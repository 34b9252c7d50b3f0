import AgentProtocol
import DecnetJSON
import Testing

/// One malformed or hostile command frame, the answer it must get, and how much of the agent it may change.
struct HostileCase: Sendable, CustomTestStringConvertible {
    /// What the frame may change.
    enum Reach: Sendable {
        /// Rejected before anything is recorded (decoding, `id_reused`) or answered at once (`state`, `ping`):
        /// every table of the store, the runtime and the state directory stay exactly as they were.
        case nothing
        /// Admitted as a request and refused by the apply path (`hash_mismatch`, `invalid_topology`, `conflict`):
        /// its request row is stored and the failure may be the new `attempt` row (docs/deviations.md#attempts), but
        /// the applied row, the runtime and the files stay as they were.
        case requestAndAttempt
    }

    let name: String
    let frame: [UInt8]
    /// The answer's `error.code`, or nil when the frame is harmless and answered with status 200.
    let code: ErrorCode?
    /// The answer's `id`: nil when the request's id cannot be read (answered with `id: null`).
    let id: String?
    let reach: Reach
    /// For `bad_request`: the `details.path` naming the member at fault.
    var path: String? = nil
    /// For `invalid_topology`: an issue code `details.issues` must contain.
    var issue: String? = nil

    var testDescription: String { name }

    /// The expected status: the code's status, or 200 for a harmless frame.
    var status: Int { code?.status ?? 200 }
}

extension HostileCase {
    static func rejected(
        _ name: String,
        _ frame: [UInt8],
        _ code: ErrorCode,
        id: String? = nil,
        path: String? = nil
    ) -> HostileCase {
        HostileCase(name: name, frame: frame, code: code, id: id, reach: .nothing, path: path)
    }

    static func harmless(_ name: String, _ frame: [UInt8], id: String) -> HostileCase {
        HostileCase(name: name, frame: frame, code: nil, id: id, reach: .nothing)
    }

    static func refusedApply(
        _ name: String,
        _ frame: [UInt8],
        _ code: ErrorCode,
        id: String,
        issue: String? = nil
    ) -> HostileCase {
        HostileCase(name: name, frame: frame, code: code, id: id, reach: .requestAndAttempt, issue: issue)
    }
}
