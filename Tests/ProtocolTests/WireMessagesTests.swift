import AgentProtocol
import DecnetJSON
import TestSupport
import Testing

/// The typed wire messages (docs/wire-protocol.md#messages): each encodes to what the schemas accept, decodes back to
/// itself, and refuses a wrong shape with `bad_request` naming the member.
@Suite struct WireMessagesTests {
    static let state = AgentState.idle.jsonValue

    static func object(_ value: JSONValue) -> JSONObject {
        guard case .object(let object) = value else { preconditionFailure("not an object") }
        return object
    }

    static let hello = Hello(
        agentID: "alpha",
        agentVersion: "1.2.3",
        bootID: "b-1",
        capabilities: ["apply", "teardown", "state", "ping"],
        state: state
    )
    static let heartbeat = Heartbeat(
        agentID: "alpha",
        bootID: "b-1",
        seq: 7,
        sentAtMillis: 1_700_000_000_000,
        intervalMillis: 5000,
        agentVersion: "1.2.3",
        running: RunningRequest(id: "r-1", type: .apply),
        state: state
    )
    static let progress = Progress(id: "r-1", phase: .containers, done: 2, total: 5, message: "started decky-002")
    static let success = ResultMessage(id: "r-2", outcome: .success(body: ["status": "applied", "version_hash": "h"]))
    static let failure = ResultMessage(
        id: "r-3",
        outcome: .failure(AgentError(.busy, "an apply runs", details: ["running": ["id": "r-1", "type": "apply"]]))
    )
    static let revoked = Revoked(agentID: "alpha", reason: "its key was removed")

    @Test func everyMessageRoundTrips() throws {
        #expect(try Hello(Self.object(Self.hello.jsonValue)) == Self.hello)
        #expect(try Heartbeat(Self.object(Self.heartbeat.jsonValue)) == Self.heartbeat)
        #expect(try Progress(Self.object(Self.progress.jsonValue)) == Self.progress)
        #expect(try ResultMessage(Self.object(Self.success.jsonValue)) == Self.success)
        #expect(try ResultMessage(Self.object(Self.failure.jsonValue)) == Self.failure)
        #expect(Self.failure.status == 409)
        #expect(try Revoked(Self.object(Self.revoked.jsonValue)) == Self.revoked)
        var idle = Self.heartbeat
        idle.running = nil
        #expect(try Heartbeat(Self.object(idle.jsonValue)) == idle)
    }

    /// The answer to a request a restart interrupted, exactly as docs/wire-protocol.md#errors gives it (the store
    /// keeps only the status; this is what a re-send receives).
    @Test func interruptedResultBytes() throws {
        let expected =
            #"{"proto":1,"type":"result","id":"apply-7","status":500,"error":{"code":"internal","#
            + #""message":"agent restarted while the request was running","details":{}}}"#
        let message = ResultMessage.interrupted(id: "apply-7")
        #expect(Messages.frame(message.jsonValue) == Array(expected.utf8))
        #expect(try ResultMessage(Self.object(message.jsonValue)) == message)
    }

    @Test func encodingsAreWhatTheSchemasAccept() throws {
        let hydrated: JSONValue = ["topology": ["id": "t"], "lans": [], "deckies": [], "edges": []]
        try SchemaCheck.check([
            .init(schema: "hello.schema.json", message: Self.hello.jsonValue),
            .init(schema: "heartbeat.schema.json", message: Self.heartbeat.jsonValue),
            .init(schema: "progress.schema.json", message: Self.progress.jsonValue),
            .init(schema: "result-error.schema.json", message: Self.failure.jsonValue),
            .init(schema: "revoked.schema.json", message: Self.revoked.jsonValue),
            .init(
                schema: "apply.schema.json",
                message: OutgoingRequest(
                    id: "a-1",
                    .apply(
                        ApplyRequest(
                            hydrated: hydrated,
                            versionHash: String(repeating: "a", count: 64),
                            supersede: false
                        )
                    )
                ).jsonValue
            ),
            .init(
                schema: "teardown.schema.json",
                message: OutgoingRequest(id: "t-1", .teardown(topologyID: "t")).jsonValue
            ),
            .init(schema: "state-request.schema.json", message: OutgoingRequest(id: "s-1", .state).jsonValue),
            .init(schema: "ping.schema.json", message: OutgoingRequest(id: "p-1", .ping).jsonValue),
        ])
    }

    @Test func outgoingRequestsAreWhatTheAgentDecodes() throws {
        let hydrated: JSONValue = ["topology": ["id": "t"], "lans": [], "deckies": [], "edges": []]
        let apply = OutgoingRequest(
            id: "a-1",
            .apply(ApplyRequest(hydrated: hydrated, versionHash: "h", supersede: true))
        )
        // One body type on both sides: what the master builds is what the agent decodes.
        let request = try RequestDecoder().decode(Messages.frame(apply.jsonValue)).get()
        #expect(request.id == "a-1" && request.body == apply.body && request.type == .apply && apply.type == .apply)
        guard
            case .success(let teardown) = RequestDecoder().decode(
                Messages.frame(OutgoingRequest(id: "t-1", .teardown(topologyID: "5d81934e")).jsonValue)
            ),
            case .teardown(let topologyID) = teardown.body
        else {
            Issue.record("the agent did not decode the teardown")
            return
        }
        #expect(topologyID == "5d81934e")
    }

    @Test(arguments: [
        (#"{"type":"hello","agent_version":"1","state":{}}"#, "boot_id"),
        (#"{"type":"hello","agent_version":"1","boot_id":"b","state":[]}"#, "state"),
        (#"{"type":"hello","agent_version":"1","boot_id":"b","state":{},"protocols":["1"]}"#, "protocols[0]"),
        (#"{"type":"heartbeat","boot_id":"b","seq":0,"state":{}}"#, "seq"),
        (#"{"type":"heartbeat","boot_id":"b","seq":9007199254740992,"state":{}}"#, "seq"),
        (#"{"type":"heartbeat","boot_id":"b","seq":"1","state":{}}"#, "seq"),
        (#"{"type":"heartbeat","boot_id":"b","seq":1,"state":{},"running":{"id":"x","type":"dance"}}"#, "running.type"),
        (#"{"type":"progress","id":"r","phase":"dancing","done":1,"total":2}"#, "phase"),
        (#"{"type":"result","id":"bad id","status":200,"body":{}}"#, "id"),
        (#"{"type":"result","id":"r","status":500}"#, "error"),
        (#"{"type":"result","id":"r","status":200}"#, "body"),
        (#"{"type":"accepted","id":"r"}"#, "type"),
    ])
    func wrongShapesAreBadRequestsNamingTheMember(text: String, path: String) throws {
        let object = Self.object(try JSONParser.parse(text))
        do throws(MessageError) {
            switch object["type"]?.stringValue {
            case "hello": _ = try Hello(object)
            case "heartbeat": _ = try Heartbeat(object)
            case "progress": _ = try Progress(object)
            default: _ = try ResultMessage(object)
            }
            Issue.record("decoded \(text)")
        } catch {
            #expect(error.code == .badRequest)
            #expect(error.details["path"]?.stringValue == path, "\(error)")
        }
    }
}
