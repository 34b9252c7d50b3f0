import AgentProtocol
import DecnetJSON
import TestSupport
import Testing

/// The typed state object (docs/wire-protocol.md#state): the exact bytes of the documented examples, a round trip for
/// every shape, what the schema accepts, and `bad_request` naming the first bad member.
@Suite struct AgentStateTests {
    static let applied = AgentState(
        topologyID: "5d81934e-0c6f-4d4c-9c4b-2b1f1c0a9e11",
        appliedVersionHash: "0259fb69c7e4d8a1b5f3e2c6a9d0b4e7f1a2c3d4e5f60718293a4b5c6d7e8f90",
        appliedAt: 1_765_100_000,
        observed: .objects(
            bridges: ["decnet_t_5d81934e_lan-00"],
            containers: ["decky-001-ssh", "decnet_t_5d81934e_decky-001"]
        ),
        drift: AgentState.Drift()
    )
    static let failing = AgentState(
        lastError: "store unreadable: disk I/O error",
        attempt: .init(topologyID: "t-2", versionHash: "h", at: 1_765_100_001, error: "[port_conflict] 22/tcp"),
        observed: .error("Cannot connect to the Docker daemon"),
        drift: nil,
        stateDirectoryError: "the state directory was removed"
    )
    static let drifting = AgentState(
        topologyID: "t-1",
        appliedVersionHash: String(repeating: "a", count: 64),
        appliedAt: 1,
        lastError: "bridge gone",
        observed: .objects(bridges: [], containers: ["x"]),
        drift: .init(
            missingBridges: ["b"],
            missingContainers: ["c1", "c2"],
            stoppedContainers: ["s"],
            unexpectedContainers: ["x"]
        )
    )

    /// The idle state in the hello example and the applied one in the heartbeat example, byte for byte.
    @Test func encodesTheDocumentedExamples() {
        let idle =
            #"{"topology_id":null,"applied_version_hash":null,"applied_at":null,"last_error":null,"attempt":null,"#
            + #""observed":{"bridges":[],"containers":[]},"drift":{"missing_bridges":[],"missing_containers":[],"#
            + #""stopped_containers":[],"unexpected_containers":[]}}"#
        #expect(AgentState.idle.encoded == Array(idle.utf8))
        let applied =
            #"{"topology_id":"5d81934e-0c6f-4d4c-9c4b-2b1f1c0a9e11","#
            + #""applied_version_hash":"0259fb69c7e4d8a1b5f3e2c6a9d0b4e7f1a2c3d4e5f60718293a4b5c6d7e8f90","#
            + #""applied_at":1765100000,"last_error":null,"attempt":null,"#
            + #""observed":{"bridges":["decnet_t_5d81934e_lan-00"],"#
            + #""containers":["decky-001-ssh","decnet_t_5d81934e_decky-001"]},"drift":{"missing_bridges":[],"#
            + #""missing_containers":[],"stopped_containers":[],"unexpected_containers":[]}}"#
        #expect(Self.applied.encoded == Array(applied.utf8))
        #expect(Messages.frame(Self.applied.jsonValue) == Self.applied.encoded)
    }

    /// `state_dir` comes last and only while there is a problem; an unreachable Docker has `observed.error` and a
    /// null drift.
    @Test func encodesTheProblemMembers() {
        let text = String(decoding: Self.failing.encoded, as: UTF8.self)
        #expect(
            text
                == #"{"topology_id":null,"applied_version_hash":null,"applied_at":null,"#
                + #""last_error":"store unreadable: disk I/O error","attempt":{"topology_id":"t-2","version_hash":"h","#
                + #""at":1765100001,"error":"[port_conflict] 22/tcp"},"#
                + #""observed":{"error":"Cannot connect to the Docker daemon"},"drift":null,"#
                + #""state_dir":{"error":"the state directory was removed"}}"#
        )
    }

    @Test(arguments: [AgentState.idle, AgentStateTests.applied, AgentStateTests.failing, AgentStateTests.drifting])
    func roundTrips(_ state: AgentState) throws {
        #expect(try AgentState(state.jsonValue) == state)
        #expect(try AgentState(JSONParser.parse(state.encoded)) == state)
    }

    @Test func encodingsAreWhatTheSchemaAccepts() throws {
        try SchemaCheck.check(
            [AgentState.idle, Self.applied, Self.failing, Self.drifting].map {
                .init(schema: "state.schema.json", message: $0.jsonValue)
            }
        )
    }

    /// Unknown members are ignored (a newer agent may add some).
    @Test func unknownMembersAreIgnored() throws {
        guard case .object(var object) = Self.drifting.jsonValue else { preconditionFailure("not an object") }
        object["future"] = ["x": 1]
        #expect(try AgentState(.object(object)) == Self.drifting)
    }

    /// Malformed state objects and the path of the member each one gets wrong.
    static let wrongShapes: [(String, String)] = {
        let idle = #""topology_id":null,"applied_version_hash":null,"applied_at":null,"last_error":null,"attempt":null"#
        let objects = #""observed":{"bridges":[],"containers":[]}"#
        let drift =
            #""drift":{"missing_bridges":[],"missing_containers":[],"#
            + #""stopped_containers":[],"unexpected_containers":[]}"#
        return [
            ("[]", "state"),
            (#"{"applied_version_hash":null}"#, "state.topology_id"),
            (#"{"topology_id":1,"applied_version_hash":null}"#, "state.topology_id"),
            (#"{"topology_id":null,"applied_version_hash":null,"applied_at":"1"}"#, "state.applied_at"),
            (#"{"topology_id":null,"applied_version_hash":null,"applied_at":1e3}"#, "state.applied_at"),
            (
                #"{"topology_id":null,"applied_version_hash":null,"applied_at":null,"last_error":null,"#
                    + #""attempt":{"topology_id":"t","version_hash":"h","error":"e"}}"#,
                "state.attempt.at"
            ),
            ("{\(idle)}", "state.observed"),
            ("{\(idle),\(objects)}", "state.drift"),
            ("{\(idle),\"observed\":{\"bridges\":[1],\"containers\":[]},\(drift)}", "state.observed.bridges[0]"),
            ("{\(idle),\"observed\":{\"bridges\":[]},\(drift)}", "state.observed.containers"),
            ("{\(idle),\"observed\":{\"error\":\"down\"},\(drift)}", "state.drift"),
            ("{\(idle),\"observed\":{\"error\":7},\"drift\":null}", "state.observed.error"),
            ("{\(idle),\(objects),\"drift\":{\"missing_bridges\":[]}}", "state.drift.missing_containers"),
            ("{\(idle),\(objects),\"drift\":null}", "state.drift"),
            ("{\(idle),\(objects),\(drift),\"state_dir\":{}}", "state.state_dir.error"),
        ]
    }()

    @Test(arguments: wrongShapes)
    func wrongShapesAreBadRequestsNamingTheMember(text: String, path: String) throws {
        let value = try JSONParser.parse(text)
        do throws(MessageError) {
            _ = try AgentState(value)
            Issue.record("decoded \(text)")
        } catch {
            #expect(error.code == .badRequest)
            #expect(error.details["path"]?.stringValue == path, "\(error)")
        }
    }

    /// Inside a heartbeat the paths say where the state is.
    @Test func theErrorPathNamesTheEnclosingMember() throws {
        do throws(MessageError) {
            _ = try AgentState(["topology_id": 5], path: "heartbeat.state")
            Issue.record("decoded")
        } catch {
            #expect(error.details["path"]?.stringValue == "heartbeat.state.topology_id")
        }
    }
}
