import AgentProtocol
import DecnetJSON

extension ResultMessage {
    /// An agent's answer as it arrived, decoded (docs/wire-protocol.md#messages). Stricter than the decoder alone:
    /// the `status` on the wire must be the one the error code maps to, so a check of ``status`` is a check of the
    /// wire's number. An answer that is not a well-formed `result` throws, failing the test that asked for it.
    public init(answer: JSONObject) throws {
        try self.init(answer)
        guard answer["status"]?.intValue == status else {
            throw FixtureError("status on the wire is not \(status): \(JSONValue.object(answer).jsonText.prefix(400))")
        }
    }

    /// The same for an answer held as a JSON value (a parsed frame, a CLI's output).
    public init(answer: JSONValue) throws {
        guard case .object(let envelope) = answer else {
            throw FixtureError("not an object: \(answer.jsonText.prefix(400))")
        }
        try self.init(answer: envelope)
    }
}
