import DecnetJSON

extension ControlClient {
    /// The `desired` message for one agent, or for every agent the master knows (docs/control-channel.md#desired).
    public func desired(agentID: String? = nil, timeout: Duration = .seconds(5)) async throws(MasterError) -> JSONObject
    {
        try await ask(ControlMessage.desiredRequest(agentID: agentID), timeout: timeout)
    }

    /// `forget`, `pause` or `resume` for one agent: the agent's `desired` entry after the change.
    public func agentAction(
        _ type: String,
        agentID: String,
        timeout: Duration = .seconds(5)
    ) async throws(MasterError)
        -> JSONObject
    {
        precondition(["forget", "pause", "resume"].contains(type), "unknown agent action \(type)")
        return try await ask(ControlMessage.agentAction(type, agentID: agentID), timeout: timeout)
    }

    /// What the master's store knows of one request: the `request` answer, whose `request` member has the status
    /// and, once the agent answered, its `result` (docs/control-channel.md#request). Throws
    /// ``MasterError/Code/unknownRequest`` when the store holds no such request.
    public func request(
        agentID: String,
        requestID: String,
        timeout: Duration = .seconds(5)
    ) async throws(MasterError) -> JSONObject {
        try await ask(ControlMessage.requestLookup(agentID: agentID, requestID: requestID), timeout: timeout)
    }

    /// The agent's most recent requests, newest first: the `requests` answer (docs/control-channel.md#requests).
    /// `limit` (default 20) is clamped by the master into 1...1000.
    public func requests(
        agentID: String,
        limit: Int? = nil,
        timeout: Duration = .seconds(5)
    ) async throws(MasterError) -> JSONObject {
        try await ask(ControlMessage.requestsLookup(agentID: agentID, limit: limit), timeout: timeout)
    }

    /// Sends `message` once and waits for the answer of the same type (`desired` for `forget`, `pause`, `resume`)
    /// or a `control_error`.
    private func ask(_ message: JSONValue, timeout: Duration) async throws(MasterError) -> JSONObject {
        send(message)
        let type = message["type"]?.stringValue ?? "desired"
        let expected = ["request", "requests"].contains(type) ? type : "desired"
        let result = await receive(until: timeout, resend: nil) { answer -> Result<JSONObject, MasterError>? in
            switch answer["type"]?.stringValue {
            case expected?: return .success(answer)
            case "control_error":
                let code = answer["error"]?["code"]?.stringValue ?? "bad_request"
                let text = answer["error"]?["message"]?.stringValue ?? "refused"
                return .failure(MasterError(MasterError.Code(code), operation: type, message: text))
            default: return nil
            }
        }
        return try result.get()
    }
}
