import DecnetJSON

/// The wire messages as types (docs/wire-protocol.md#messages): each decodes from an envelope with our error codes
/// and encodes to the exact bytes the agent sends (member order of the wire protocol's tables, via ``Messages``).
/// `hydrated` stays a JSON value (the agent checks it by the validator's rules). The state object has its type,
/// ``AgentState``, but `hello` and `heartbeat` carry it as a JSON value: the agent embeds the one it built once per
/// change, and the master admits any object there and reads it with ``AgentState`` afterwards.

/// A message that does not have the shape its type requires: `bad_request` with the path of the first bad member.
public typealias MessageError = AgentError

/// The request being run, in heartbeats and in `busy` details.
public struct RunningRequest: Sendable, Hashable {
    public var id: String
    public var type: RequestType

    public init(id: String, type: RequestType) {
        self.id = id
        self.type = type
    }

    public init(_ value: JSONValue, path: String) throws(MessageError) {
        let object = try Members(value, path: path)
        id = try object.requestID("id")
        guard let type = RequestType(rawValue: try object.string("type")) else {
            throw .badRequest("\(path).type is not a request type", path: path + ".type")
        }
        self.type = type
    }

    public var jsonValue: JSONValue { Messages.running(id: id, type: type) }
}

/// `hello`: the first message on every (re)connection of the command socket.
public struct Hello: Sendable, Equatable {
    public var agentID: String
    public var agentVersion: String
    public var bootID: String
    public var protocols: [Int]
    public var capabilities: [String]
    public var state: JSONValue

    public init(
        agentID: String,
        agentVersion: String,
        bootID: String,
        protocols: [Int] = WireProtocol.supportedVersions,
        capabilities: [String],
        state: JSONValue
    ) {
        self.agentID = agentID
        self.agentVersion = agentVersion
        self.bootID = bootID
        self.protocols = protocols
        self.capabilities = capabilities
        self.state = state
    }

    /// Decodes a `hello` envelope. `agent_id`, `protocols` and `capabilities` may be missing (older agents): the
    /// master knows the id from the key, and takes the others as empty.
    public init(_ envelope: JSONObject) throws(MessageError) {
        let m = try Members(.object(envelope), path: "hello")
        try m.expectType("hello")
        agentID = try m.optionalString("agent_id") ?? ""
        agentVersion = try m.string("agent_version")
        bootID = try m.string("boot_id")
        protocols =
            try m.optionalArray("protocols")?.enumerated().map { index, value throws(MessageError) in
                guard let n = value.intValue else {
                    throw .badRequest("hello.protocols[\(index)] is not an integer", path: "protocols[\(index)]")
                }
                return n
            } ?? []
        capabilities =
            try m.optionalArray("capabilities")?.enumerated().map { index, value throws(MessageError) in
                guard let s = value.stringValue else {
                    throw .badRequest("hello.capabilities[\(index)] is not a string", path: "capabilities[\(index)]")
                }
                return s
            } ?? []
        state = try m.object("state")
    }

    public var jsonValue: JSONValue {
        var value = Messages.hello(
            agentID: agentID,
            agentVersion: agentVersion,
            bootID: bootID,
            capabilities: capabilities,
            state: state
        )
        if protocols != WireProtocol.supportedVersions, case .object(var object) = value {
            object["protocols"] = .array(protocols.map { .integer(JSONInteger($0)) })
            value = .object(object)
        }
        return value
    }
}

/// `heartbeat`: a full snapshot, published on `hb.<agent_id>` every interval.
public struct Heartbeat: Sendable, Equatable {
    public var agentID: String
    public var bootID: String
    /// 1 to 2^53 - 1 (``WireLimits/sequence``).
    public var seq: Int
    /// `sent_at` and `interval_ms`: `nil` when a decoded heartbeat lacks them (the agent always sends both; an
    /// encoded `nil` is written as 0).
    public var sentAtMillis: Int?
    public var intervalMillis: Int?
    public var agentVersion: String
    public var running: RunningRequest?
    public var state: JSONValue

    public init(
        agentID: String,
        bootID: String,
        seq: Int,
        sentAtMillis: Int?,
        intervalMillis: Int?,
        agentVersion: String,
        running: RunningRequest?,
        state: JSONValue
    ) {
        self.agentID = agentID
        self.bootID = bootID
        self.seq = seq
        self.sentAtMillis = sentAtMillis
        self.intervalMillis = intervalMillis
        self.agentVersion = agentVersion
        self.running = running
        self.state = state
    }

    /// Decodes a `heartbeat` envelope; `seq` outside ``WireLimits/sequence`` is refused, `interval_ms` is taken as
    /// sent (readers clamp it with ``WireLimits/clampInterval(_:)``).
    public init(_ envelope: JSONObject) throws(MessageError) {
        let m = try Members(.object(envelope), path: "heartbeat")
        try m.expectType("heartbeat")
        agentID = try m.optionalString("agent_id") ?? ""
        bootID = try m.string("boot_id")
        seq = try m.int("seq")
        guard WireLimits.sequence.contains(seq) else {
            throw .badRequest("heartbeat.seq \(seq) is outside 1 to 2^53 - 1", path: "seq")
        }
        sentAtMillis = try m.optionalInt("sent_at")
        intervalMillis = try m.optionalInt("interval_ms")
        agentVersion = try m.optionalString("agent_version") ?? ""
        switch envelope["running"] {
        case nil, .null?: running = nil
        case let value?: running = try RunningRequest(value, path: "running")
        }
        state = try m.object("state")
    }

    public var jsonValue: JSONValue {
        Messages.heartbeat(
            agentID: agentID,
            bootID: bootID,
            seq: seq,
            sentAtMillis: sentAtMillis ?? 0,
            intervalMillis: intervalMillis ?? 0,
            agentVersion: agentVersion,
            running: running?.jsonValue ?? .null,
            state: state
        )
    }
}

/// `progress`: zero or more during an apply or a teardown.
public struct Progress: Sendable, Equatable {
    public var id: String
    public var phase: Phase
    public var done: Int
    public var total: Int
    public var message: String

    public init(id: String, phase: Phase, done: Int, total: Int, message: String) {
        self.id = id
        self.phase = phase
        self.done = done
        self.total = total
        self.message = message
    }

    public init(_ envelope: JSONObject) throws(MessageError) {
        let m = try Members(.object(envelope), path: "progress")
        try m.expectType("progress")
        id = try m.requestID("id")
        guard let phase = Phase(rawValue: try m.string("phase")) else {
            throw .badRequest("progress.phase is not a phase", path: "phase")
        }
        self.phase = phase
        done = try m.int("done")
        total = try m.int("total")
        message = try m.optionalString("message") ?? ""
    }

    public var jsonValue: JSONValue {
        Messages.progress(id: id, phase: phase, done: done, total: total, message: message)
    }
}

/// `result`: the one answer that ends a request, a success with its body or a failure with its error.
public struct ResultMessage: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case success(body: JSONValue)
        case failure(AgentError)
    }

    /// `nil` when the agent could not read the request's id.
    public var id: String?
    public var outcome: Outcome

    public init(id: String?, outcome: Outcome) {
        self.id = id
        self.outcome = outcome
    }

    public init(_ envelope: JSONObject) throws(MessageError) {
        let m = try Members(.object(envelope), path: "result")
        try m.expectType("result")
        if case .null? = envelope["id"] { id = nil } else { id = try m.requestID("id") }
        let status = try m.int("status")
        if status == 200 {
            guard let body = envelope["body"] else { throw .badRequest("result.body is missing", path: "body") }
            outcome = .success(body: body)
        } else {
            let error = try Members(envelope["error"] ?? .null, path: "error")
            let code = ErrorCode(rawValue: try error.string("code"))
            let details: JSONObject
            switch envelope["error"]?["details"] {
            case nil, .null?: details = JSONObject()
            case .object(let object)?: details = object
            default: throw .badRequest("result.error.details is not an object", path: "error.details")
            }
            outcome = .failure(AgentError(code, try error.optionalString("message") ?? "", details: details))
        }
    }

    /// The message of the answer to a request the agent was running when its process stopped.
    public static let interruptedMessage = "agent restarted while the request was running"

    /// The answer to a request a previous agent process left running (docs/wire-protocol.md#errors): never run
    /// again, it fails `internal` with empty details. Encoded exactly (compact, raw UTF-8, members in this order):
    /// `{"proto":1,"type":"result","id":"<id>","status":500,"error":{"code":"internal","message":"agent restarted
    /// while the request was running","details":{}}}`.
    public static func interrupted(id: String) -> ResultMessage {
        ResultMessage(id: id, outcome: .failure(AgentError(.internal, interruptedMessage)))
    }

    /// The body of a success; `nil` for a failure.
    public var body: JSONValue? {
        guard case .success(let body) = outcome else { return nil }
        return body
    }

    /// The error of a failure; `nil` for a success.
    public var error: AgentError? {
        guard case .failure(let error) = outcome else { return nil }
        return error
    }

    /// The status number: 200, or the error code's.
    public var status: Int {
        switch outcome {
        case .success: return 200
        case .failure(let error): return error.status
        }
    }

    public var jsonValue: JSONValue {
        switch outcome {
        case .success(let body): return Messages.result(id: id ?? "", body: body)
        case .failure(let error): return Messages.failure(id: id, error: error)
        }
    }
}

/// `revoked`: master to agent, the agent's key left the allow-list (docs/wire-protocol.md#revoked).
public struct Revoked: Sendable, Equatable {
    public var agentID: String?
    public var reason: String

    public init(agentID: String?, reason: String) {
        self.agentID = agentID
        self.reason = reason
    }

    public init(_ envelope: JSONObject) throws(MessageError) {
        let m = try Members(.object(envelope), path: "revoked")
        try m.expectType("revoked")
        agentID = try m.optionalString("agent_id")
        reason = try m.optionalString("reason") ?? ""
    }

    public var jsonValue: JSONValue { Messages.revoked(agentID: agentID, reason: reason) }
}

/// A request as the master builds it (the agent decodes requests with ``RequestDecoder``).
public struct OutgoingRequest: Sendable, Equatable {
    public typealias Body = Request.Body

    public var id: String
    public var body: Body

    public init(id: String, _ body: Body) {
        self.id = id
        self.body = body
    }

    public var type: RequestType { body.type }

    public var jsonValue: JSONValue {
        var members: [(String, JSONValue)] = []
        switch body {
        case .apply(let apply):
            members = [
                ("hydrated", apply.hydrated), ("version_hash", .string(JSONString(apply.versionHash))),
                ("supersede", .bool(apply.supersede)),
            ]
        case .teardown(let topologyID):
            members = [("topology_id", .string(JSONString(topologyID)))]
        case .rotateKey(let phase):
            members = [("phase", .string(JSONString(phase.rawValue)))]
        case .state, .ping:
            break
        }
        return Messages.envelope(type.rawValue, id: id, members)
    }
}

/// Reads the members of one envelope or object, each failure a `bad_request` naming the member's path.
struct Members {
    let object: JSONObject
    let path: String

    init(_ value: JSONValue, path: String) throws(MessageError) {
        guard case .object(let object) = value else { throw .badRequest("\(path) is not an object", path: path) }
        self.object = object
        self.path = path
    }

    func expectType(_ type: String) throws(MessageError) {
        guard object["type"]?.stringValue == type else {
            throw .badRequest("\(path): type is not \(type)", path: "type")
        }
    }

    func string(_ key: String) throws(MessageError) -> String {
        guard let value = try optionalString(key) else { throw .badRequest("\(path).\(key) is missing", path: key) }
        return value
    }

    func optionalString(_ key: String) throws(MessageError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s.value
        default: throw .badRequest("\(path).\(key) is not a string", path: key)
        }
    }

    func requestID(_ key: String) throws(MessageError) -> String {
        let id = try string(key)
        guard Identifiers.isValidRequestID(id) else {
            throw .badRequest("\(path).\(key) is not a request id", path: key)
        }
        return id
    }

    func int(_ key: String) throws(MessageError) -> Int {
        guard let value = try optionalInt(key) else { throw .badRequest("\(path).\(key) is missing", path: key) }
        return value
    }

    func optionalInt(_ key: String) throws(MessageError) -> Int? {
        switch object[key] {
        case nil, .null?: return nil
        case .integer(let n)?:
            guard let value = n.intValue else {
                throw .badRequest("\(path).\(key) is out of range", path: key)
            }
            return value
        default: throw .badRequest("\(path).\(key) is not an integer", path: key)
        }
    }

    func optionalArray(_ key: String) throws(MessageError) -> [JSONValue]? {
        switch object[key] {
        case nil, .null?: return nil
        case .array(let items)?: return items
        default: throw .badRequest("\(path).\(key) is not an array", path: key)
        }
    }

    func object(_ key: String) throws(MessageError) -> JSONValue {
        guard case .object? = object[key] else { throw .badRequest("\(path).\(key) is not an object", path: key) }
        return object[key]!
    }
}
