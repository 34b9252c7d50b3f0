import AgentProtocol
import DecnetJSON

/// The operator control channel's messages (see `schemas/README.md`): one JSON object per frame, `proto` 1, over a
/// ZeroMQ ROUTER at `ipc://DIR/control.ipc` that only the master's user can open.
///
/// Client → master: `fleet`, `submit` (a wire request for one agent), `watch`; `desire`, `desired`, `forget`,
/// `pause`, `resume` (MasterCore+Desired.swift); `request`, `requests` (MasterCore+Lookup.swift). Master → client:
/// `fleet` (the snapshot), `submitted`, `answer` (an agent's accepted/progress/result, verbatim inside),
/// `desired`, `request`, `requests`, `control_error`.
public enum ControlMessage {
    /// Error codes of `control_error`.
    public static let errorCodes = [
        "bad_request", "id_reused", "timeout", "shutdown", "not_enrolled", "revoked", "hash_mismatch", "store_failed",
        "unknown_request",
    ]

    static func envelope(_ type: String, _ members: [(String, JSONValue)]) -> JSONValue {
        var pairs: [(JSONString, JSONValue)] = [
            ("proto", .integer(JSONInteger(WireProtocol.version))), ("type", .string(JSONString(type))),
        ]
        pairs.append(contentsOf: members.map { (JSONString($0.0), $0.1) })
        return .object(JSONObject(pairs))
    }

    // MARK: client → master

    /// Asks for one fleet snapshot.
    public static func fleetRequest() -> JSONValue { envelope("fleet", []) }

    /// Asks the master to deliver `request` (a wire request envelope) to `agentID`, waiting up to `timeoutMillis`
    /// for its result. Sending it again with the same request is safe: the master attaches to the one in flight.
    public static func submit(agentID: String, request: JSONValue, timeoutMillis: Int) -> JSONValue {
        envelope(
            "submit",
            [
                ("agent_id", .string(JSONString(agentID))), ("timeout_ms", .integer(JSONInteger(timeoutMillis))),
                ("request", request),
            ]
        )
    }

    /// Subscribes to fleet snapshots for 30 s; clients renew it every 10 s.
    public static func watch() -> JSONValue { envelope("watch", []) }

    // MARK: master → client

    /// The fleet snapshot: agents in id order and the master's counters.
    public static func fleet(now: Int64, agents: [JSONValue], counters: JSONValue) -> JSONValue {
        envelope("fleet", [("now", .integer(JSONInteger(now))), ("agents", .array(agents)), ("counters", counters)])
    }

    /// A submit was taken; `agent_connected` false means it waits for the agent's hello.
    public static func submitted(agentID: String, id: String, agentConnected: Bool) -> JSONValue {
        envelope(
            "submitted",
            [
                ("agent_id", .string(JSONString(agentID))), ("id", .string(JSONString(id))),
                ("agent_connected", .bool(agentConnected)),
            ]
        )
    }

    /// An answer from the agent to a submitted request, the agent's envelope verbatim under `message`.
    public static func answer(agentID: String, id: String, message: JSONValue) -> JSONValue {
        envelope(
            "answer",
            [
                ("agent_id", .string(JSONString(agentID))), ("id", .string(JSONString(id))), ("message", message),
            ]
        )
    }

    /// A control request failed; `id` is the request id it concerned, when there is one.
    /// For a `timeout`, `sent` says whether the agent ever received the request: when false it never will.
    public static func error(id: String?, code: String, message: String, sent: Bool? = nil) -> JSONValue {
        var error: JSONObject = ["code": .string(JSONString(code)), "message": .string(JSONString(message))]
        if let sent { error["sent"] = .bool(sent) }
        return envelope(
            "control_error",
            [("id", id.map { .string(JSONString($0)) } ?? .null), ("error", .object(error))]
        )
    }

    /// Compact UTF-8 bytes for one frame.
    public static func frame(_ message: JSONValue) -> [UInt8] { PythonJSONEncoder().encode(message) }
}
