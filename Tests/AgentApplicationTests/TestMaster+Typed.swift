import AgentProtocol
import DecnetJSON
import LiveTestSupport
import TestSupport

/// The test master's traffic as typed wire messages: requests sent as ``OutgoingRequest``, answers read as
/// ``ResultMessage``, ``Hello`` and ``Heartbeat``.
extension TestMaster {
    func send(to agentID: String, _ request: OutgoingRequest) { send(to: agentID, request.jsonValue) }

    /// The `type` of every message received for `id`, in order.
    func types(id: String) -> [String] { answers(id: id).map { $0["type"]?.stringValue ?? "?" } }

    /// The `result`s received for `id`, decoded (one that does not decode fails the wait that asked for it).
    func results(id: String) -> [ResultMessage] {
        answers(id: id).filter { $0["type"] == "result" }.compactMap { try? ResultMessage(Self.object($0)) }
    }

    /// Waits until `count` results of `id` arrived; answers the last.
    func result(of id: String, count: Int = 1) async throws -> ResultMessage {
        try await waitFor("\(count) result(s) of \(id)") { self.results(id: id).count >= count }
        guard let last = results(id: id).last else { throw FixtureError("no result of \(id)") }
        return last
    }

    /// The results received with a null `id` (requests whose id could not be read), decoded.
    var resultsWithoutID: [ResultMessage] {
        commands.value.map(\.message).filter { $0["type"] == "result" && $0["id"] == .null }.compactMap {
            try? ResultMessage(Self.object($0))
        }
    }

    /// The heartbeats published, decoded.
    var heartbeats: [Heartbeat] {
        published.value.filter { $0.topic.hasPrefix("hb.") }.compactMap { try? Heartbeat(Self.object($0.message)) }
    }

    static func object(_ value: JSONValue) throws -> JSONObject {
        guard case .object(let object) = value else { throw FixtureError("not an object: \(value.jsonText)") }
        return object
    }
}
