import AgentProtocol
import AgentStore
import DecnetJSON
import Logging
import MasterStore

/// The control channel's look-ups of the master's store (docs/control-channel.md#request): `request` (one request
/// by its id) and `requests` (an agent's most recent), so a client learns an outcome without re-sending anything.
extension MasterCore {
    /// How many requests `requests` lists when the client gives no `limit`.
    static let defaultRequestsLimit = 20
    /// How often finished requests are trimmed while the master runs (and once at start).
    static let trimInterval: Int64 = 3_600_000

    /// Handles `request` or `requests`; answers false when `type` is neither.
    func controlLookup(_ client: [UInt8], type: String, _ envelope: JSONObject) async -> Bool {
        switch type {
        case "request": await controlRequest(client, envelope)
        case "requests": await controlRequests(client, envelope)
        default: return false
        }
        return true
    }

    private func controlRequest(_ client: [UInt8], _ envelope: JSONObject) async {
        guard let agentID = envelope["agent_id"]?.stringValue, Identifiers.isValidAgentID(agentID) else {
            return await lookupError(client, id: nil, code: "bad_request", "request needs a valid agent_id")
        }
        guard let requestID = envelope["id"]?.stringValue, Identifiers.isValidRequestID(requestID) else {
            return await lookupError(client, id: nil, code: "bad_request", "request needs a valid request id in id")
        }
        guard let store = keeper?.store else {
            return await lookupError(client, id: requestID, code: "store_failed", "this master keeps no store")
        }
        let summary: RequestSummary?
        do {
            summary = try store.summary(agentID: agentID, requestID: requestID)
        } catch {
            return await lookupError(client, id: requestID, code: "store_failed", "\(error)")
        }
        guard let summary else {
            return await lookupError(
                client,
                id: requestID,
                code: "unknown_request",
                "the master's store holds no request \(requestID) for \(agentID) (never sent through this master, "
                    + "a state or ping, or trimmed: docs/control-channel.md#master-store)"
            )
        }
        let entry = ControlMessage.requestEntry(summary, inFlight: isTracked(summary))
        _ = await outlets.toControl(client, ControlMessage.frame(ControlMessage.request(now: wallClock(), entry)))
    }

    private func controlRequests(_ client: [UInt8], _ envelope: JSONObject) async {
        guard let agentID = envelope["agent_id"]?.stringValue, Identifiers.isValidAgentID(agentID) else {
            return await lookupError(client, id: nil, code: "bad_request", "requests needs a valid agent_id")
        }
        let limit: Int
        switch envelope["limit"] {
        case nil, .null?: limit = Self.defaultRequestsLimit
        case .integer(let value)?:
            // Clamped, never refused (docs/control-channel.md#requests): a number of any size is taken.
            let wide = value.int64Value ?? (value.isNegative ? .min : .max)
            limit = Int(min(max(wide, 1), Int64(MasterStore.listLimit)))
        default:
            return await lookupError(client, id: nil, code: "bad_request", "limit must be an integer")
        }
        guard let store = keeper?.store else {
            return await lookupError(client, id: nil, code: "store_failed", "this master keeps no store")
        }
        let summaries: [RequestSummary]
        do {
            summaries = try store.summaries(agentID: agentID, limit: limit)
        } catch {
            return await lookupError(client, id: nil, code: "store_failed", "\(error)")
        }
        let entries = summaries.map { ControlMessage.requestEntry($0, inFlight: isTracked($0)) }
        let answer = ControlMessage.requests(agentID: agentID, now: wallClock(), entries)
        _ = await outlets.toControl(client, ControlMessage.frame(answer))
    }

    /// Whether the master is carrying the request now (it has no outcome yet and is in the tracker).
    private func isTracked(_ summary: RequestSummary) -> Bool {
        summary.finishedAt == nil
            && tracker.entries[RequestKey(agentID: summary.agentID, requestID: summary.requestID)] != nil
    }

    private func lookupError(_ client: [UInt8], id: String?, code: String, _ text: String) async {
        counters.controlErrors += 1
        logger.notice("control request refused", metadata: ["code": "\(code)", "message": "\(text)"])
        _ = await outlets.toControl(
            client,
            ControlMessage.frame(ControlMessage.error(id: id, code: code, message: text))
        )
    }

    /// Trims finished requests (``MasterStore/trim(now:)``) when ``trimInterval`` passed since the last time, so a
    /// master that runs for months keeps `master.db` bounded (docs/control-channel.md#master-store).
    func trimRequestsIfDue() {
        guard let store = keeper?.store else { return }
        let now = clock()
        if let due = keeper!.nextTrimAt, now < due { return }
        keeper!.nextTrimAt = now + Self.trimInterval
        do {
            let deleted = try store.trim(now: wallClock())
            if deleted > 0 { logger.info("finished requests trimmed", metadata: ["deleted": "\(deleted)"]) }
        } catch {
            keeper!.storeFailures += 1
            logger.error("cannot trim finished requests", metadata: ["error": "\(error)"])
        }
    }
}

extension ControlMessage {
    /// Asks what the master's store knows of one request (docs/control-channel.md#request).
    public static func requestLookup(agentID: String, requestID: String) -> JSONValue {
        envelope("request", [("agent_id", .string(JSONString(agentID))), ("id", .string(JSONString(requestID)))])
    }

    /// Asks for an agent's most recent requests, newest first; `limit` is clamped by the master into 1...1000.
    public static func requestsLookup(agentID: String, limit: Int?) -> JSONValue {
        var members: [(String, JSONValue)] = [("agent_id", .string(JSONString(agentID)))]
        if let limit { members.append(("limit", .integer(JSONInteger(limit)))) }
        return envelope("requests", members)
    }

    /// The answer to `request`: one entry (``requestEntry(_:inFlight:)``).
    public static func request(now: Int64, _ entry: JSONValue) -> JSONValue {
        envelope("request", [("now", .integer(JSONInteger(now))), ("request", entry)])
    }

    /// The answer to `requests`: the agent's entries, newest first.
    public static func requests(agentID: String, now: Int64, _ entries: [JSONValue]) -> JSONValue {
        envelope(
            "requests",
            [
                ("agent_id", .string(JSONString(agentID))), ("now", .integer(JSONInteger(now))),
                ("requests", .array(entries)),
            ]
        )
    }

    /// What the store knows of one request, with its status (docs/control-channel.md#request):
    ///
    /// * `in_flight`: no outcome yet, and the master carries it (it may be waiting for its agent);
    /// * `finished`: the agent answered; `result` is its `result` envelope verbatim, whatever its status;
    /// * `timed_out`: the deadline passed before the request was ever handed to the agent: nothing ran;
    /// * `refused`: the master ended it before sending it (`error` says why): nothing ran;
    /// * `unknown`: no result, and the agent may have run it (a `timeout` with `sent` true, `revoked`), or an open
    ///   request the master no longer carries.
    ///
    /// `error` is the `error` object of the `control_error` that ended it, else null.
    public static func requestEntry(_ summary: RequestSummary, inFlight: Bool) -> JSONValue {
        var status = "unknown"
        var result: JSONValue = .null
        var error: JSONValue = .null
        if let outcome = summary.outcome, summary.finishedAt != nil {
            let message = try? JSONParser.parse(outcome, maxDepth: WireProtocol.maxDepth)
            switch message?["type"]?.stringValue {
            case "answer" where message?["message"]?["type"]?.stringValue == "result":
                status = "finished"
                result = message?["message"] ?? .null
            case "control_error":
                error = message?["error"] ?? .null
                switch (error["code"]?.stringValue, error["sent"]?.boolValue) {
                case ("timeout", true?), ("revoked", _): status = "unknown"
                case ("timeout", _): status = "timed_out"
                default: status = "refused"
                }
            default: break
            }
        } else if inFlight {
            status = "in_flight"
        }
        func text(_ value: String?) -> JSONValue { value.map { .string(JSONString($0)) } ?? .null }
        return [
            "agent_id": text(summary.agentID), "id": text(summary.requestID), "type": text(summary.type),
            "origin": text(summary.origin.rawValue), "topology_id": text(summary.topologyID),
            "version_hash": text(summary.versionHash), "created_at": .integer(JSONInteger(summary.createdAt)),
            "deadline_at": .integer(JSONInteger(summary.deadlineAt)),
            "finished_at": summary.finishedAt.map { .integer(JSONInteger($0)) } ?? .null,
            "status": .string(JSONString(status)), "result": result, "error": error,
        ]
    }
}
