import DecnetJSON

/// What an in-process caller of ``MasterServer/submit(agentID:request:timeout:)`` sees of its request.
public enum RequestEvent: Sendable {
    /// The master took the request; `agentConnected` false means it waits for the agent to connect.
    case submitted(agentConnected: Bool)
    /// An `accepted`, `progress` or `result` envelope from the agent (the stream ends after the result).
    case answer(JSONObject)
    /// No result: the deadline passed (``MasterError/Code/timeout``) or the master stopped.
    case failed(MasterError)
}

/// Who waits for the answers of a request.
enum Subscriber: Sendable {
    /// An in-process caller.
    case local(id: Int, AsyncStream<RequestEvent>.Continuation)
    /// A control-channel client, by its routing id on the control ROUTER.
    case control([UInt8])

    var controlID: [UInt8]? {
        if case .control(let id) = self { return id }
        return nil
    }
}
