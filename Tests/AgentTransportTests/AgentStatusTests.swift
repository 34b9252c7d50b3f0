import AgentProtocol
import AgentTransport
import DecnetJSON
import Testing

/// The status line `decnet-agent run` gives systemd (`STATUS=`, shown by `systemctl status`).
@Suite struct AgentStatusTests {
    static let endpoint = "tcp://m:8771"

    @Test func aFreshAgentDiallingWithDockerDown() throws {
        let state = AgentState(observed: .error("Docker is not answering"), drift: nil)
        let line = AgentStatus.line(
            link: .init(connected: false, lastError: nil),
            endpoint: Self.endpoint,
            running: nil,
            state: state
        )
        #expect(line == "dialling tcp://m:8771; no topology applied; last error: Docker: Docker is not answering")
    }

    @Test func aConnectedAgentApplyingWithAnAppliedTopologyAndEveryKindOfError() throws {
        let state = AgentState(
            topologyID: "t-1",
            appliedVersionHash: "0259fb69c7e4d8a1b5f3e2c6",
            lastError: "bridge gone",
            attempt: .init(topologyID: "t-2", versionHash: "x", at: 1, error: "port_conflict"),
            observed: .objects(bridges: [], containers: []),
            drift: .init(),
            stateDirectoryError: "folder removed"
        )
        let line = AgentStatus.line(
            link: .init(connected: true, lastError: nil),
            endpoint: Self.endpoint,
            running: (id: "m-7", type: "apply"),
            state: state
        )
        #expect(
            line
                == "connected to tcp://m:8771; applying (request m-7); topology t-1 applied (hash 0259fb69c7e4); "
                + "last error: state directory: folder removed; apply of t-2 failed: port_conflict; bridge gone"
        )
    }

    @Test func aRefusedHandshakeIsTheLinksErrorAndLongLinesAreCut() throws {
        var state = AgentState.idle
        state.lastError = String(repeating: "x", count: 900)
        let line = AgentStatus.line(
            link: .init(connected: false, lastError: "handshake refused"),
            endpoint: Self.endpoint,
            running: (id: "m-8", type: "teardown"),
            state: state
        )
        #expect(line.hasPrefix("dialling tcp://m:8771; tearing down (request m-8); no topology applied; last error: x"))
        #expect(line.count == 480 && line.hasSuffix("…"))
        let short = AgentStatus.line(
            link: .init(connected: false, lastError: "handshake refused"),
            endpoint: Self.endpoint,
            running: nil,
            state: .idle
        )
        #expect(short == "dialling tcp://m:8771; no topology applied; last error: link: handshake refused")
    }
}
