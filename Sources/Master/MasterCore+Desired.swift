import AgentProtocol
import AgentStore
import DecnetJSON
import Logging
import MasterStore
import Topology

/// The control channel's desired-state messages (docs/control-channel.md#desire, docs/control-channel.md#desired):
/// `desire`, `desired`, `forget`, `pause`, `resume`.
extension MasterCore {
    /// Handles one of the desired-state messages; answers false when `type` is not one of them.
    func controlDesiredState(_ client: [UInt8], type: String, _ envelope: JSONObject) async -> Bool {
        switch type {
        case "desire": await controlDesire(client, envelope)
        case "desired":
            let agentID = envelope["agent_id"]?.stringValue
            if let agentID, !Identifiers.isValidAgentID(agentID) {
                await desiredError(client, id: nil, code: "bad_request", "\(agentID) is not a valid agent id")
            } else {
                await sendDesired(client, agents: agentID.map { [$0] })
            }
        case "forget", "pause", "resume":
            await controlAgentAction(client, type: type, envelope)
        default: return false
        }
        return true
    }

    private func controlAgentAction(_ client: [UInt8], type: String, _ envelope: JSONObject) async {
        guard let agentID = envelope["agent_id"]?.stringValue, Identifiers.isValidAgentID(agentID) else {
            return await desiredError(client, id: nil, code: "bad_request", "\(type) needs a valid agent_id")
        }
        guard keeper != nil else {
            return await desiredError(client, id: nil, code: "store_failed", "this master keeps no desired state")
        }
        do {
            switch type {
            case "forget":
                // `applied_here` is kept (docs/control-channel.md#desired): a later desire of "none" still tears
                // down what the master put there before the forget.
                try keeper!.store?.forget(agentID)
                keeper!.desired[agentID] = nil
                keeper!.desiredChanged(agentID: agentID)
                keeper!.verdicts[agentID] = nil
                logger.notice("desired state forgotten", metadata: ["agent": "\(agentID)"])
            default:
                let paused = type == "pause"
                try keeper!.store?.setPaused(agentID, paused)
                keeper!.setPaused(paused, agentID: agentID)
                keeper!.verdicts[agentID] = paused ? .paused : nil
                logger.notice(paused ? "reconcile paused" : "reconcile resumed", metadata: ["agent": "\(agentID)"])
            }
        } catch {
            return await desiredError(client, id: nil, code: "store_failed", "\(error)")
        }
        fleetChanged = true
        await sendDesired(client, agents: [agentID])
    }

    /// `desire`: checks as a submit does, records the request and the new desired state, then submits.
    private func controlDesire(_ client: [UInt8], _ envelope: JSONObject) async {
        guard let agentID = envelope["agent_id"]?.stringValue, case .object(let request)? = envelope["request"] else {
            return await desiredError(client, id: nil, code: "bad_request", "desire needs agent_id and request")
        }
        let id = request["id"]?.stringValue
        let timeout: Int64
        switch envelope["timeout_ms"] {
        case nil, .null?: timeout = 60_000
        case .integer(let value)?: timeout = value.int64Value ?? (value.isNegative ? .min : .max)
        default: return await desiredError(client, id: id, code: "bad_request", "timeout_ms must be an integer")
        }
        let refusal: (code: String, text: String)?
        var decoded: Request?
        switch RequestDecoder().decode(request) {
        case .failure(let rejected): refusal = ("bad_request", rejected.error.message)
        case .success(let value):
            decoded = value
            switch value.body {
            case .apply(let apply) where CanonicalHash.hash(apply.hydrated) != apply.versionHash:
                refusal = (
                    "hash_mismatch",
                    "version_hash \(apply.versionHash) is not the canonical hash of hydrated "
                        + "(\(CanonicalHash.hash(apply.hydrated))); nothing recorded"
                )
            case .apply, .teardown: refusal = nil
            default: refusal = ("bad_request", "a desire carries an apply or a teardown")
            }
        }
        // The submit's own checks come first (stopping, agent id, enrolment), in its order.
        if stopped || !Identifiers.isValidAgentID(agentID) || !isEnrolled(agentID) || decoded == nil {
            return await submitForDesire(client, agentID: agentID, request: request, timeout: timeout, id: id)
        }
        if let refusal { return await desiredError(client, id: id, code: refusal.code, refusal.text) }
        guard let decoded, keeper != nil else {
            return await desiredError(client, id: id, code: "store_failed", "this master keeps no desired state")
        }
        let key = RequestKey(agentID: agentID, requestID: decoded.id)
        // In flight already (a client re-sending): the submit attaches, or says id_reused.
        if tracker.entries[key] != nil {
            return await submitForDesire(client, agentID: agentID, request: request, timeout: timeout, id: id)
        }
        let wallNow = wallClock()
        let frame = Messages.frame(.object(request))
        let stored = StoredRequest(
            agentID: agentID,
            requestID: decoded.id,
            type: decoded.type.rawValue,
            fingerprint: decoded.fingerprint,
            request: frame,
            origin: .operator,
            createdAt: wallNow,
            deadlineAt: wallNow + Self.clampedTimeout(timeout)
        )
        var topology: DesiredRecord.Topology?
        if case .apply(let apply) = decoded.body, let topologyID = apply.hydrated["topology"]?["id"]?.stringValue {
            topology = DesiredRecord.Topology(
                id: topologyID,
                versionHash: apply.versionHash,
                hydrated: PythonJSONEncoder().encode(apply.hydrated),
                supersede: apply.supersede
            )
        } else if case .apply = decoded.body {
            return await desiredError(client, id: id, code: "bad_request", "hydrated has no topology.id")
        }
        let record = DesiredRecord(agentID: agentID, topology: topology, requestID: decoded.id, setAt: wallNow)
        let outcome: DesireOutcome
        do {
            outcome = try keeper!.store?.recordDesire(stored, desired: record) ?? .recorded
        } catch {
            return await desiredError(client, id: id, code: "store_failed", "\(error); nothing recorded or sent")
        }
        switch outcome {
        case .idReused:
            await desiredError(
                client,
                id: id,
                code: "id_reused",
                "request id \(decoded.id) was used with other content"
            )
        case .repeated(let previous):
            if let answer = previous.outcome, let message = try? JSONParser.parse(answer) {
                // Finished before (perhaps under an earlier master): the stored outcome, after `submitted`.
                let submitted = ControlMessage.submitted(
                    agentID: agentID,
                    id: decoded.id,
                    agentConnected: isReachable(agentID)
                )
                _ = await outlets.toControl(client, ControlMessage.frame(submitted))
                _ = await outlets.toControl(client, ControlMessage.frame(message))
            } else {
                keeper!.durable[key] = previous.origin
                let left = max(1, previous.deadlineAt - wallNow)
                await submitForDesire(client, agentID: agentID, request: request, timeout: left, id: id, recorded: true)
            }
        case .recorded:
            keeper!.desired[agentID] = record
            if let topology { keeper!.appliedHere[agentID, default: []].insert(topology.id) }
            keeper!.desiredChanged(agentID: agentID)
            keeper!.started(decoded.id, agentID: agentID, byLoop: false, body: decoded.body)
            keeper!.verdicts[agentID] = .pushing(requestID: decoded.id)
            keeper!.durable[key] = .operator
            fleetChanged = true
            logger.notice(
                "desired state recorded",
                metadata: [
                    "agent": "\(agentID)", "id": "\(decoded.id)", "topology": "\(topology?.id ?? "none")",
                ]
            )
            await submitForDesire(client, agentID: agentID, request: request, timeout: timeout, id: id, recorded: true)
        }
    }

    /// Submits for a desire; when the request was just recorded (`recorded`), a refusal is its outcome.
    private func submitForDesire(
        _ client: [UInt8],
        agentID: String,
        request: JSONObject,
        timeout: Int64,
        id: String?,
        recorded: Bool = false
    ) async {
        let outcome = await submit(
            agentID: agentID,
            request: request,
            timeoutMillis: timeout,
            subscriber: .control(client)
        )
        guard case .failure(let error) = outcome else { return }
        if recorded, let id {
            let message = ControlMessage.error(id: id, code: error.code.rawValue, message: error.message)
            await durableFinished(RequestKey(agentID: agentID, requestID: id), controlMessage: message)
        }
        await desiredError(client, id: id, code: error.code.rawValue, error.message)
    }

    private func desiredError(_ client: [UInt8], id: String?, code: String, _ text: String) async {
        counters.controlErrors += 1
        logger.notice("control request refused", metadata: ["code": "\(code)", "message": "\(text)"])
        _ = await outlets.toControl(
            client,
            ControlMessage.frame(ControlMessage.error(id: id, code: code, message: text))
        )
    }

    private func sendDesired(_ client: [UInt8], agents: [String]?) async {
        _ = await outlets.toControl(client, ControlMessage.frame(desiredSnapshot(agents: agents)))
    }

    /// The `desired` message for `agents` (all known agents when `nil`).
    public func desiredSnapshot(agents: [String]? = nil) -> JSONValue {
        let now = clock()
        let wallNow = wallClock()
        let ids = agents ?? keeper?.knownAgents(seen: fleet.records.keys) ?? fleet.sortedRecords.map(\.agentID)
        let entries = ids.map { desiredEntry($0, now: now, wallNow: wallNow) }
        return ControlMessage.desired(now: wallNow, agents: entries)
    }

    func desiredEntry(_ agentID: String, now: Int64, wallNow: Int64) -> JSONValue {
        var reported: JSONValue = .null
        if let record = fleet[agentID] {
            reported = Self.reportedJSON(
                connected: isReachable(agentID),
                state: record.state,
                seenAt: record.lastSeenAt.map { wallNow - (now - $0) }
            )
        } else if let stored = keeper?.stored[agentID], stored.seenAt != nil {
            let state = stored.state.flatMap { try? JSONParser.parse($0) }.flatMap { try? AgentState($0) }
            reported = Self.reportedJSON(connected: false, state: state, seenAt: stored.seenAt)
        }
        let history = keeper?.history(agentID)
        return [
            "agent_id": JSONValue(agentID),
            "desired": keeper?.desiredJSON(agentID) ?? .null,
            "paused": .bool(history?.paused ?? false),
            "in_sync": .bool(keeper?.verdicts[agentID] == .inSync),
            "reported": reported,
            "applied_here": JSONValue((keeper?.appliedHere[agentID] ?? []).sorted()),
            "reconcile": reconcileJSON(agentID),
        ]
    }

    static func reportedJSON(connected: Bool, state: AgentState?, seenAt: Int64?) -> JSONValue {
        var record = AgentRecord(agentID: "-")
        record.state = state
        let drift: JSONValue
        if let summary = record.driftSummary {
            drift = .object(JSONObject(summary.keys.sorted().map { (JSONString($0), JSONValue(summary[$0]!)) }))
        } else {
            drift = .null
        }
        return [
            "connected": .bool(connected),
            "topology_id": record.topologyID.map { JSONValue($0) } ?? .null,
            "applied_version_hash": record.appliedVersionHash.map { JSONValue($0) } ?? .null,
            "drift": drift,
            "seen_at": seenAt.map { .integer(JSONInteger($0)) } ?? .null,
        ]
    }
}

extension ControlMessage {
    /// Records `request` (an apply or a teardown) as the agent's desired state, then delivers it.
    public static func desire(agentID: String, request: JSONValue, timeoutMillis: Int) -> JSONValue {
        envelope(
            "desire",
            [
                ("agent_id", .string(JSONString(agentID))), ("timeout_ms", .integer(JSONInteger(timeoutMillis))),
                ("request", request),
            ]
        )
    }

    /// Asks for the desired state of one agent, or of all.
    public static func desiredRequest(agentID: String?) -> JSONValue {
        envelope("desired", agentID.map { [("agent_id", .string(JSONString($0)))] } ?? [])
    }

    /// `forget`, `pause` or `resume` for one agent.
    public static func agentAction(_ type: String, agentID: String) -> JSONValue {
        envelope(type, [("agent_id", .string(JSONString(agentID)))])
    }

    /// The answer to `desired`, `forget`, `pause` and `resume`.
    public static func desired(now: Int64, agents: [JSONValue]) -> JSONValue {
        envelope("desired", [("now", .integer(JSONInteger(now))), ("agents", .array(agents))])
    }
}
