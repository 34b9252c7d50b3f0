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

    /// Sends `message` once and waits for the `desired` answer or a `control_error`.
    private func ask(_ message: JSONValue, timeout: Duration) async throws(MasterError) -> JSONObject {
        send(message)
        let type = message["type"]?.stringValue ?? "desired"
        let result = await receive(until: timeout, resend: nil) { answer -> Result<JSONObject, MasterError>? in
            switch answer["type"]?.stringValue {
            case "desired": return .success(answer)
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
