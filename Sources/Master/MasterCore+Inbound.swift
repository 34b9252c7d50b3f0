import AgentProtocol
import DecnetJSON
import Logging
import ZeroMQ

extension MasterCore {
    /// One message from the command ROUTER: `[routing id, envelope]` with the sender's User-Id.
    public func command(_ message: ZMQMessage) async {
        counters.receivedCommand += 1
        let admitted: InboundGate.Admitted
        switch gate.admitCommand(frames: message.frames, userId: message.userId) {
        case .failure(let reason):
            return drop(reason, socket: "command", message: message)
        case .success(let value):
            admitted = value
        }
        let now = clock()
        let agentID = admitted.agentID
        switch admitted.type {
        case "hello":
            guard fleet.hello(agentID: agentID, envelope: admitted.envelope, now: now) else {
                return drop(.malformed, socket: "command", message: message)
            }
            fleetChanged = true
            let record = fleet[agentID]
            logger.info(
                "agent connected",
                metadata: [
                    "agent": "\(agentID)", "boot_id": "\(record?.bootID ?? "")",
                    "version": "\(record?.agentVersion ?? "")", "connections": "\(record?.connections ?? 0)",
                ])
            await perform(tracker.hello(agentID: agentID, now: now))
        case "accepted", "progress", "result":
            heard(agentID) { $0.seen(agentID: agentID, now: now) }
            await answer(admitted, now: now)
        default:
            drop(.unexpectedType, socket: "command", message: message)
        }
    }

    /// An answer to a request: updates the tracker and hands the envelope to the request's subscribers.
    private func answer(_ admitted: InboundGate.Admitted, now: Int64) async {
        guard case .string(let id)? = admitted.envelope["id"] else {
            counters.staleAnswers += 1
            logger.warning(
                "agent answered a request it could not read",
                metadata: [
                    "agent": "\(admitted.agentID)",
                    "answer": "\(admitted.envelope.jsonSummary)",
                ])
            return
        }
        let key = RequestKey(agentID: admitted.agentID, requestID: id.value)
        let type = tracker.entries[key]?.type
        switch tracker.answer(key, type: admitted.type, now: now) {
        case .unknown:
            counters.staleAnswers += 1
            logger.debug(
                "answer for no outstanding request", metadata: ["request": "\(key)", "type": "\(admitted.type)"])
        case .alive:
            await deliver(admitted.envelope, for: key)
        case .finished:
            counters.results += 1
            let status = admitted.envelope["status"]?.intValue ?? 0
            if type == .state, status == 200, let body = admitted.envelope["body"] {
                fleet.state(agentID: admitted.agentID, state: body, now: now)
                fleetChanged = true
            }
            logger.info("request finished", metadata: ["request": "\(key)", "status": "\(status)"])
            await finish(
                key, with: .answer(admitted.envelope),
                controlMessage: ControlMessage.answer(
                    agentID: key.agentID, id: key.requestID, message: .object(admitted.envelope)))
        }
    }

    /// Hands an `accepted` or `progress` to every subscriber; control clients that are gone are forgotten.
    private func deliver(_ envelope: JSONObject, for key: RequestKey) async {
        let frame = ControlMessage.frame(
            ControlMessage.answer(agentID: key.agentID, id: key.requestID, message: .object(envelope)))
        for subscriber in subscribers[key] ?? [] {
            switch subscriber {
            case .local(_, let continuation):
                continuation.yield(.answer(envelope))
            case .control(let client):
                if await !outlets.toControl(client, frame) {
                    subscribers[key]?.removeAll { $0.controlID == client }
                }
            }
        }
    }

    /// One message from the heartbeat SUB: `[topic, envelope]`. Admitted heartbeats and events are relayed to the
    /// monitors verbatim.
    public func published(_ message: ZMQMessage) async {
        counters.receivedPublished += 1
        let kind: InboundGate.TopicKind
        let admitted: InboundGate.Admitted
        switch gate.admitPublished(frames: message.frames, userId: message.userId) {
        case .failure(let reason):
            return drop(reason, socket: "heartbeat", message: message)
        case .success(let value):
            (kind, admitted) = value
        }
        let now = clock()
        switch (kind, admitted.type) {
        case (.heartbeat, "heartbeat"):
            let beat = heard(admitted.agentID) {
                $0.heartbeat(agentID: admitted.agentID, envelope: admitted.envelope, now: now)
            }
            guard let missing = beat else { return drop(.malformed, socket: "heartbeat", message: message) }
            if missing > 0 {
                counters.heartbeatGaps += missing
                logger.notice(
                    "heartbeats missing", metadata: ["agent": "\(admitted.agentID)", "missing": "\(missing)"])
            }
            fleetChanged = true
            counters.relayedHeartbeats += 1
            outlets.toMonitors(WireProtocol.heartbeatTopic(admitted.agentID), admitted.bytes)
        case (.event, "accepted"), (.event, "progress"), (.event, "result"):
            heard(admitted.agentID) { $0.seen(agentID: admitted.agentID, now: now) }
            counters.relayedEvents += 1
            outlets.toMonitors(WireProtocol.eventTopic(admitted.agentID), admitted.bytes)
        default:
            drop(.unexpectedType, socket: "heartbeat", message: message)
        }
    }

    /// Applies `update` to the fleet and logs when it connected an agent that had gone silent.
    private func heard<T>(_ agentID: String, _ update: (inout FleetView) -> T) -> T {
        let wasSilent = fleet[agentID]?.disconnectReason == .silent
        let result = update(&fleet)
        if wasSilent, fleet[agentID]?.connected == true {
            fleetChanged = true
            logger.notice("silent agent heard again", metadata: ["agent": "\(agentID)"])
        }
        return result
    }

    func drop(_ reason: DropReason, socket: String, message: ZMQMessage) {
        counters.drop(reason)
        var metadata: Logger.Metadata = [
            "reason": "\(reason.rawValue)", "socket": "\(socket)", "user_id": "\(message.userId ?? "-")",
            "frames": "\(message.frames.count)", "bytes": "\(message.byteCount)",
        ]
        if let first = message.frames.first {
            metadata["first_frame"] = "\(String(decoding: first.prefix(80), as: UTF8.self))"
        }
        if let peer = message.peerAddress { metadata["peer"] = "\(peer)" }
        logger.warning("message dropped", metadata: metadata)
    }
}

extension JSONObject {
    /// The first 200 characters of the object's JSON, for logs.
    var jsonSummary: String { String(JSONValue.object(self).jsonText.prefix(200)) }
}
