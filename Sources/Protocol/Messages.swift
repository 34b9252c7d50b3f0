import DecnetJSON

/// Builders for every message the agent sends. Member order follows the wire protocol's tables.
public enum Messages {
    static func envelope(_ type: String, id: String?, _ members: [(String, JSONValue)]) -> JSONValue {
        var pairs: [(JSONString, JSONValue)] = [
            ("proto", .integer(JSONInteger(WireProtocol.version))), ("type", .string(JSONString(type))),
        ]
        if let id { pairs.append(("id", .string(JSONString(id)))) }
        pairs.append(contentsOf: members.map { (JSONString($0.0), $0.1) })
        return .object(JSONObject(pairs))
    }

    /// `accepted`: sent at once for apply and teardown.
    public static func accepted(id: String) -> JSONValue { envelope("accepted", id: id, []) }

    /// Master to agent: the agent's key is no longer allowed (docs/wire-protocol.md#revoked). The master stops
    /// sending to it and cuts its connections; the agent logs it as an error and backs off before dialling again.
    public static func revoked(agentID: String?, reason: String) -> JSONValue {
        var members: [(String, JSONValue)] = [("reason", .string(JSONString(reason)))]
        if let agentID { members.insert(("agent_id", .string(JSONString(agentID))), at: 0) }
        return envelope("revoked", id: nil, members)
    }

    /// `enrol` (agent → master, on a connection made with an enrolment token's key; docs/wire-protocol.md#enrol):
    /// `nonce` and `proof` are unpadded base64url.
    public static func enrol(agentID: String, publicKey: String, nonce: String, proof: String) -> JSONValue {
        envelope(
            "enrol",
            id: nil,
            [
                ("agent_id", .string(JSONString(agentID))), ("public_key", .string(JSONString(publicKey))),
                ("nonce", .string(JSONString(nonce))), ("proof", .string(JSONString(proof))),
            ]
        )
    }

    /// `progress`: zero or more during apply and teardown.
    public static func progress(id: String, phase: Phase, done: Int, total: Int, message: String) -> JSONValue {
        envelope(
            "progress",
            id: id,
            [
                ("phase", .string(JSONString(phase.rawValue))), ("done", .integer(JSONInteger(done))),
                ("total", .integer(JSONInteger(total))), ("message", .string(JSONString(message))),
            ]
        )
    }

    /// A successful `result` (status 200) with its body.
    public static func result(id: String, body: JSONValue) -> JSONValue {
        envelope("result", id: id, [("status", .integer(JSONInteger(200))), ("body", body)])
    }

    /// The frame of a successful `result` whose body is already encoded: the same bytes `frame(result(id:body:))`
    /// gives, without encoding the body again. `id` must be a valid request id (no characters to escape).
    public static func resultFrame(id: String, encodedBody: [UInt8]) -> [UInt8] {
        precondition(Identifiers.isValidRequestID(id), "request ids never need escaping")
        var frame = Array(#"{"proto":1,"type":"result","id":""#.utf8)
        frame.reserveCapacity(frame.count + id.utf8.count + encodedBody.count + 24)
        frame.append(contentsOf: id.utf8)
        frame.append(contentsOf: #"","status":200,"body":"#.utf8)
        frame.append(contentsOf: encodedBody)
        frame.append(UInt8(ascii: "}"))
        return frame
    }

    /// A failed `result`. `id` is null when the request's id could not be read.
    public static func failure(id: String?, error: AgentError) -> JSONValue {
        let pairs: [(JSONString, JSONValue)] = [
            ("proto", .integer(JSONInteger(WireProtocol.version))), ("type", "result"),
            ("id", id.map { .string(JSONString($0)) } ?? .null),
            ("status", .integer(JSONInteger(error.status))), ("error", error.jsonValue),
        ]
        return .object(JSONObject(pairs))
    }

    /// `hello`: the first message on every (re)connection of the command socket.
    public static func hello(
        agentID: String,
        agentVersion: String,
        bootID: String,
        capabilities: [String],
        state: JSONValue
    ) -> JSONValue {
        envelope(
            "hello",
            id: nil,
            [
                ("agent_id", .string(JSONString(agentID))), ("agent_version", .string(JSONString(agentVersion))),
                ("boot_id", .string(JSONString(bootID))),
                ("protocols", .array(WireProtocol.supportedVersions.map { .integer(JSONInteger($0)) })),
                ("capabilities", .array(capabilities.map { .string(JSONString($0)) })), ("state", state),
            ]
        )
    }

    /// What is running, for `running` in heartbeats and `details.running` of `busy`.
    public static func running(id: String, type: RequestType) -> JSONValue {
        ["id": .string(JSONString(id)), "type": .string(JSONString(type.rawValue))]
    }

    /// `heartbeat`: a full snapshot, published on `hb.<agent_id>`.
    public static func heartbeat(
        agentID: String,
        bootID: String,
        seq: Int,
        sentAtMillis: Int,
        intervalMillis: Int,
        agentVersion: String,
        running: JSONValue,
        state: JSONValue
    ) -> JSONValue {
        envelope(
            "heartbeat",
            id: nil,
            [
                ("agent_id", .string(JSONString(agentID))), ("boot_id", .string(JSONString(bootID))),
                ("seq", .integer(JSONInteger(seq))), ("sent_at", .integer(JSONInteger(sentAtMillis))),
                ("interval_ms", .integer(JSONInteger(intervalMillis))),
                ("agent_version", .string(JSONString(agentVersion))), ("running", running), ("state", state),
            ]
        )
    }

    /// Compact UTF-8 bytes of a message, as sent in one frame.
    public static func frame(_ message: JSONValue) -> [UInt8] {
        PythonJSONEncoder().encode(message)
    }
}
