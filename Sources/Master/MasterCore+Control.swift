import AgentProtocol
import DecnetJSON
import Logging
import ZeroMQ

extension MasterCore {
    /// One message from the control ROUTER: `[client id, control message]`.
    public func control(_ message: ZMQMessage) async {
        counters.receivedControl += 1
        metrics.received(.control)
        guard message.frames.count == 2, let client = message.frames.first else { return }
        guard let value = try? JSONParser.parse(message.frames[1], maxDepth: WireProtocol.maxDepth),
            case .object(let envelope) = value, let type = envelope["type"]?.stringValue
        else {
            return await controlError(
                client,
                id: nil,
                code: "bad_request",
                "a control message is a JSON object with a type"
            )
        }
        switch type {
        case "fleet":
            _ = await outlets.toControl(client, ControlMessage.frame(snapshot()))
        case "watch":
            watchers[client] = clock() + Self.watchLifetime
            if await !outlets.toControl(client, ControlMessage.frame(snapshot())) { watchers[client] = nil }
        case "submit":
            await controlSubmit(client, envelope)
        default:
            if await controlDesiredState(client, type: type, envelope) { break }
            if await controlLookup(client, type: type, envelope) { break }
            await controlError(client, id: nil, code: "bad_request", "unknown control message type \(type)")
        }
    }

    private func controlSubmit(_ client: [UInt8], _ envelope: JSONObject) async {
        guard let agentID = envelope["agent_id"]?.stringValue, case .object(let request)? = envelope["request"] else {
            return await controlError(client, id: nil, code: "bad_request", "submit needs agent_id and request")
        }
        let id = request["id"]?.stringValue
        // Any integer is taken and clamped by `submit` (docs/control-channel.md#deadlines), 64 bits or not.
        let timeout: Int64
        switch envelope["timeout_ms"] {
        case nil, .null?: timeout = 60_000
        case .integer(let value)?: timeout = value.int64Value ?? (value.isNegative ? .min : .max)
        default: return await controlError(client, id: id, code: "bad_request", "timeout_ms must be an integer")
        }
        switch await submit(agentID: agentID, request: request, timeoutMillis: timeout, subscriber: .control(client)) {
        case .failure(let error):
            await controlError(client, id: id, code: error.code.rawValue, error.message)
        case .success:
            break
        }
    }

    private func controlError(_ client: [UInt8], id: String?, code: String, _ text: String) async {
        counters.controlErrors += 1
        logger.notice("control request refused", metadata: ["code": "\(code)", "message": "\(text)"])
        _ = await outlets.toControl(
            client,
            ControlMessage.frame(ControlMessage.error(id: id, code: code, message: text))
        )
    }

    /// Pushes a snapshot to every watcher when the fleet changed (at most every ``watchPushInterval``), and forgets
    /// watchers whose subscription ran out or who are gone.
    func pushToWatchers(now: Int64) async {
        watchers = watchers.filter { $0.value > now }
        guard fleetChanged, !watchers.isEmpty, now - lastWatchPush >= Self.watchPushInterval else { return }
        fleetChanged = false
        lastWatchPush = now
        let frame = ControlMessage.frame(snapshot())
        for client in watchers.keys where await !outlets.toControl(client, frame) {
            watchers[client] = nil
        }
    }

    /// Registers an in-process subscriber and submits; the stream ends after the result or a failure.
    func submitLocal(
        agentID: String,
        request: JSONObject,
        timeoutMillis: Int64
    ) async -> Result<AsyncStream<RequestEvent>, MasterError> {
        nextLocalID += 1
        let (stream, continuation) = AsyncStream.makeStream(of: RequestEvent.self)
        let outcome = await submit(
            agentID: agentID,
            request: request,
            timeoutMillis: timeoutMillis,
            subscriber: .local(id: nextLocalID, continuation)
        )
        switch outcome {
        case .failure(let error):
            continuation.finish()
            return .failure(error)
        case .success:
            return .success(stream)
        }
    }
}
