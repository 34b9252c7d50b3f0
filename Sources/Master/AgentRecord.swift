import AgentProtocol
import DecnetJSON

/// What the master knows about one agent: its last hello, its last heartbeat and the state they carried.
public struct AgentRecord: Sendable {
    public var agentID: String
    /// Why an agent that said hello is no longer taken as connected.
    public enum DisconnectReason: String, Sendable {
        /// Nothing arrived from it for longer than the master's silence limit (a cut link, a frozen host): the
        /// master notices without having to send anything.
        case silent
        /// libzmq refused a send to it: its connection is gone.
        case sendFailed = "send_failed"
        /// Its command connection closed (libzmq's monitor said so).
        case closed
        /// Its key was removed from (or replaced in) the allow-list.
        case revoked
    }

    /// A hello was seen, and since then no send to the agent failed and it was never silent for too long.
    public var connected = false
    /// Why it is not connected any more; `nil` while connected and before the first hello.
    public var disconnectReason: DisconnectReason?
    /// Hellos seen (one per connection the agent made).
    public var connections = 0
    public var bootID: String?
    public var agentVersion: String?
    public var protocols: [Int] = []
    public var capabilities: [String] = []
    public var helloAt: Int64?
    /// The latest state object, from a hello, a heartbeat or a `state` result; `nil` before the first, or when the
    /// latest one did not have the state object's shape (docs/wire-protocol.md#state).
    public var state: AgentState?
    public var heartbeat: HeartbeatInfo?
    /// `running` of the last heartbeat: `{"id", "type"}` or null.
    public var running: JSONValue = .null
    /// When anything was last received from the agent.
    public var lastSeenAt: Int64?

    public init(agentID: String) {
        self.agentID = agentID
    }

    /// The heartbeat stream of one agent, with its sequence gaps.
    public struct HeartbeatInfo: Sendable, Equatable {
        public var receivedAt: Int64
        public var seq: Int
        public var sentAt: Int64?
        public var intervalMillis: Int?
        public var bootID: String
        /// Heartbeats received since the master started.
        public var count: Int
        /// Heartbeats missing from the sequence (summed over boots).
        public var gaps: Int
        /// Heartbeats that arrived with a sequence number not above the previous one (same boot).
        public var outOfOrder: Int
    }

    /// Something arrived from the agent at `now`. An agent that was only silent is connected again; one whose
    /// connection refused a send waits for its hello (a new connection).
    mutating func heard(now: Int64) {
        lastSeenAt = now
        if disconnectReason == .silent {
            connected = true
            disconnectReason = nil
        }
    }

    public var topologyID: String? { state?.topologyID }
    public var appliedVersionHash: String? { state?.appliedVersionHash }
    /// `observed.error` of the state: the agent could not ask Docker.
    public var observedError: String? { state?.observed.error }

    /// The sizes of the drift lists, or `nil` when the state has no drift (nothing known, or Docker unreachable).
    public var driftSummary: [String: Int]? {
        guard let counts = driftCounts else { return nil }
        return [
            "missing_bridges": counts.missingBridges, "missing_containers": counts.missingContainers,
            "stopped_containers": counts.stoppedContainers, "unexpected_containers": counts.unexpectedContainers,
        ]
    }

    /// ``driftSummary`` as four numbers: compared for every heartbeating agent on every tick, without building a
    /// dictionary.
    var driftCounts: DriftCounts? {
        guard let drift = state?.drift else { return nil }
        return DriftCounts(
            missingBridges: drift.missingBridges.count,
            missingContainers: drift.missingContainers.count,
            stoppedContainers: drift.stoppedContainers.count,
            unexpectedContainers: drift.unexpectedContainers.count
        )
    }

    struct DriftCounts: Equatable {
        var missingBridges: Int
        var missingContainers: Int
        var stoppedContainers: Int
        var unexpectedContainers: Int
    }

    /// The record as `agents --json` and the control channel show it; ages are relative to `now` (monotonic), and
    /// instants are shown in Unix milliseconds through `wallNow`, the wall clock read at `now`.
    public func jsonValue(now: Int64, wallNow: Int64? = nil, pending: [JSONValue] = []) -> JSONValue {
        let wall = { (instant: Int64) -> Int64 in
            (wallNow ?? now).subtractingSaturating(now.subtractingSaturating(instant))
        }
        var object = JSONObject()
        object["agent_id"] = .string(JSONString(agentID))
        object["connected"] = .bool(connected)
        object["disconnect_reason"] = disconnectReason.map { JSONValue($0.rawValue) } ?? .null
        object["connections"] = .integer(JSONInteger(connections))
        object["boot_id"] = bootID.map { JSONValue($0) } ?? .null
        object["agent_version"] = agentVersion.map { JSONValue($0) } ?? .null
        object["protocols"] = .array(protocols.map { JSONValue($0) })
        object["capabilities"] = JSONValue(capabilities)
        object["hello_at"] = helloAt.map { .integer(JSONInteger(wall($0))) } ?? .null
        object["last_seen_age_ms"] = lastSeenAt.map { .integer(JSONInteger(max(0, now - $0))) } ?? .null
        if let heartbeat {
            object["heartbeat"] = [
                "age_ms": .integer(JSONInteger(max(0, now - heartbeat.receivedAt))),
                "received_at": .integer(JSONInteger(wall(heartbeat.receivedAt))),
                "seq": .integer(JSONInteger(heartbeat.seq)),
                "sent_at": heartbeat.sentAt.map { .integer(JSONInteger($0)) } ?? .null,
                "interval_ms": heartbeat.intervalMillis.map { JSONValue($0) } ?? .null,
                "boot_id": .string(JSONString(heartbeat.bootID)),
                "count": .integer(JSONInteger(heartbeat.count)),
                "gaps": .integer(JSONInteger(heartbeat.gaps)),
                "out_of_order": .integer(JSONInteger(heartbeat.outOfOrder)),
            ]
        } else {
            object["heartbeat"] = .null
        }
        object["topology_id"] = topologyID.map { JSONValue($0) } ?? .null
        object["applied_version_hash"] = appliedVersionHash.map { JSONValue($0) } ?? .null
        object["observed_error"] = observedError.map { JSONValue($0) } ?? .null
        if let drift = driftSummary {
            object["drift"] = .object(JSONObject(drift.keys.sorted().map { (JSONString($0), JSONValue(drift[$0]!)) }))
        } else {
            object["drift"] = .null
        }
        object["running"] = running
        object["pending"] = .array(pending)
        return .object(object)
    }
}
