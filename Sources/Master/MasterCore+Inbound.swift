import AgentProtocol
import DecnetJSON
import Logging
import ZeroMQ

extension MasterCore {
    /// One message from the command ROUTER: `[routing id, envelope]` with the sender's User-Id.
    public func command(_ message: ZMQMessage) async {
        counters.receivedCommand += 1
        metrics.received(.command)
        let now = clock()
        connections.message(descriptor: message.sourceDescriptor, key: message.userId, now: now)
        if let tokenKey = InboundGate.enrolmentKey(userId: message.userId) {
            return await enrolment(message, tokenKey: tokenKey)
        }
        let admitted: InboundGate.Admitted
        switch gate.admitCommand(frames: message.frames, userId: message.userId) {
        case .failure(let reason):
            if reason == .revoked, let routingId = message.routingId {
                // Tell a client whose key is gone (on each message, until its connection is cut after the grace
                // period): the agent then backs off.
                let notice = Messages.revoked(agentID: nil, reason: "this key is not in the master's allow-list")
                _ = await outlets.toAgent(routingId, Messages.frame(notice))
            }
            return drop(reason, socket: "command", message: message)
        case .success(let value):
            admitted = value
        }
        let agentID = admitted.agentID
        let routingId = message.routingId ?? []
        if let displaced = routes.heard(agentID: agentID, routingId: routingId) {
            fleet.closed(agentID: displaced)
            log(
                .warning,
                "a routing id changed hands; its old agent waits for a new hello",
                reason: "route_taken",
                metadata: ["agent": "\(displaced)", "now_from": "\(agentID)"]
            )
        }
        switch admitted.type {
        case "hello":
            guard fleet.hello(agentID: agentID, envelope: admitted.envelope, now: now) else {
                return drop(.malformed, socket: "command", message: message)
            }
            let route = AgentRoutes.Route(
                routingId: routingId,
                key: admitted.key,
                connection: connections.connection(on: message.sourceDescriptor),
                since: now
            )
            if let previous = routes.hello(agentID: agentID, route: route), let old = previous.connection,
                old != route.connection
            {
                cut(old, reason: .superseded)
            }
            fleetChanged = true
            let record = fleet[agentID]
            logger.info(
                "agent connected",
                metadata: [
                    "agent": "\(agentID)", "boot_id": "\(LogText.escaped(record?.bootID ?? ""))",
                    "version": "\(LogText.escaped(record?.agentVersion ?? ""))",
                    "connections": "\(record?.connections ?? 0)",
                ]
            )
            reconcileObserved(agentID, heartbeat: false)
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
            metrics.staleAnswer()
            log(
                .warning,
                "agent answered a request it could not read",
                reason: "unreadable_answer",
                metadata: [
                    "agent": "\(admitted.agentID)", "answer": "\(LogText.escaped(admitted.envelope.jsonSummary))",
                ]
            )
            return
        }
        let key = RequestKey(agentID: admitted.agentID, requestID: id.value)
        let type = tracker.entries[key]?.type
        switch tracker.answer(key, type: admitted.type, now: now) {
        case .unknown:
            counters.staleAnswers += 1
            metrics.staleAnswer()
            logger.debug(
                "answer for no outstanding request",
                metadata: [
                    "request": "\(LogText.escaped(key.description))", "type": "\(LogText.escaped(admitted.type))",
                ]
            )
        case .alive:
            await deliver(admitted.envelope, for: key)
        case .finished:
            counters.results += 1
            let result = try? ResultMessage(admitted.envelope)
            let status = result?.status ?? 0
            if type == .state, case .success(let body)? = result?.outcome {
                fleet.state(agentID: admitted.agentID, state: body, now: now)
                fleetChanged = true
            }
            logger.info("request finished", metadata: ["request": "\(key)", "status": "\(status)"])
            await finish(
                key,
                with: .answer(admitted.envelope),
                controlMessage: ControlMessage.answer(
                    agentID: key.agentID,
                    id: key.requestID,
                    message: .object(admitted.envelope)
                )
            )
        }
    }

    /// Hands an `accepted` or `progress` to every subscriber; control clients that are gone are forgotten.
    private func deliver(_ envelope: JSONObject, for key: RequestKey) async {
        let frame = ControlMessage.frame(
            ControlMessage.answer(agentID: key.agentID, id: key.requestID, message: .object(envelope))
        )
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

    /// Books messages from the heartbeat SUB, judged and (when admitted) already relayed to the monitors by the
    /// socket thread (``HeartbeatRelay``): the fleet view, gaps, counters, and drops with their cuts.
    public func published(_ batch: [PublishedMessage]) {
        for judged in batch { published(judged) }
    }

    private func published(_ judged: PublishedMessage) {
        let origin = judged.origin
        let now = judged.receivedAt
        counters.receivedPublished += 1
        metrics.received(.heartbeat)
        connections.message(descriptor: origin.sourceDescriptor, key: origin.userId, now: now)
        switch judged.verdict {
        case .dropped(let reason):
            drop(reason, socket: "heartbeat", origin: origin)
        case .heartbeat(let agentID, let heartbeat, let state):
            let missing = heard(agentID) {
                $0.heartbeat(agentID: agentID, heartbeat: heartbeat, state: state, now: now)
            }
            if missing > 0 {
                counters.heartbeatGaps = counters.heartbeatGaps.addingSaturating(missing)
                metrics.heartbeatsMissing(missing)
                log(
                    .notice,
                    "heartbeats missing",
                    reason: "heartbeat_gap",
                    metadata: ["agent": "\(agentID)", "missing": "\(missing)"]
                )
            }
            fleetChanged = true
            reconcileObserved(agentID, heartbeat: true)
            counters.relayedHeartbeats += 1
            metrics.heartbeatRelayed()
        case .event(let agentID):
            heard(agentID) { $0.seen(agentID: agentID, now: now) }
            counters.relayedEvents += 1
            metrics.eventRelayed()
        }
    }

    /// Applies `update` to the fleet and logs when it connected an agent that had gone silent.
    private func heard<T>(_ agentID: String, _ update: (inout FleetView) -> T) -> T {
        let wasSilent = fleet.disconnectReason(agentID) == .silent
        let result = update(&fleet)
        if wasSilent, fleet.isConnected(agentID) {
            fleetChanged = true
            logger.notice("silent agent heard again", metadata: ["agent": "\(agentID)"])
        }
        return result
    }

    /// Counts and logs (rate-limited) a dropped message; a sender whose key claims another identity, or has none
    /// any more, loses its connection too.
    func drop(_ reason: DropReason, socket: String, message: ZMQMessage) {
        drop(reason, socket: socket, origin: MessageOrigin(message))
    }

    func drop(_ reason: DropReason, socket: String, origin message: MessageOrigin) {
        counters.drop(reason)
        metrics.dropped(reason)
        let cutFor: [DropReason: CutReason] = [
            .revoked: .revoked, .monitorKey: .impostor, .noUserId: .impostor, .topicMismatch: .impostor,
            .agentIdMismatch: .impostor, .enrolmentOnly: .enrolmentOnly,
        ]
        if let cutReason = cutFor[reason], let connection = connections.connection(on: message.sourceDescriptor) {
            connections.closed(descriptor: connection.descriptor)
            if cutReason == .revoked {
                // After the `revoked` notice has had time to leave.
                pendingCuts.append((clock() + limits.revokeGraceMillis, connection, cutReason))
            } else {
                cut(connection, reason: cutReason)
            }
        }
        var metadata: Logger.Metadata = [
            "reason": "\(reason.rawValue)", "socket": "\(socket)", "key": "\(LogText.escaped(message.userId ?? "-"))",
            "frames": "\(message.frameCount)", "bytes": "\(message.byteCount)",
        ]
        if let first = message.firstFrame { metadata["first_frame"] = "\(LogText.escaped(bytes: first))" }
        if let peer = message.peerAddress { metadata["peer"] = "\(LogText.escaped(peer))" }
        log(.warning, "message dropped", reason: "drop_\(reason.rawValue)", metadata: metadata)
    }
}

extension JSONObject {
    /// The first 200 characters of the object's JSON, for logs.
    var jsonSummary: String { String(JSONValue.object(self).jsonText.prefix(200)) }
}
