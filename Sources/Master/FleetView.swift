import AgentProtocol
import DecnetJSON

/// The master's view of its fleet: one ``AgentRecord`` per agent that ever said hello or sent a heartbeat.
///
/// A plain value: the master's core actor owns it and feeds it admitted messages; tests drive it directly.
public struct FleetView: Sendable {
    public private(set) var records: [String: AgentRecord] = [:]

    public init() {}

    public subscript(agentID: String) -> AgentRecord? { records[agentID] }

    /// A hello: the agent (re)connected. Returns false when required members are missing or of the wrong type.
    public mutating func hello(agentID: String, envelope: JSONObject, now: Int64) -> Bool {
        guard let hello = try? Hello(envelope) else { return false }
        var record = records[agentID] ?? AgentRecord(agentID: agentID)
        record.connected = true
        record.disconnectReason = nil
        record.connections += 1
        record.bootID = hello.bootID
        record.agentVersion = hello.agentVersion
        record.protocols = hello.protocols
        record.capabilities = hello.capabilities
        record.helloAt = now
        record.state = try? AgentState(hello.state)
        record.lastSeenAt = now
        records[agentID] = record
        return true
    }

    /// A heartbeat: updates the state and the sequence bookkeeping. Returns the number of heartbeats this one
    /// shows missing (0 normally), or `nil` when required members are missing or of the wrong type.
    public mutating func heartbeat(agentID: String, envelope: JSONObject, now: Int64) -> Int? {
        guard let heartbeat = try? Heartbeat(envelope) else { return nil }
        return self.heartbeat(agentID: agentID, heartbeat: heartbeat, now: now)
    }

    /// A heartbeat already read: how many were missed before it.
    public mutating func heartbeat(agentID: String, heartbeat: Heartbeat, now: Int64) -> Int {
        self.heartbeat(agentID: agentID, heartbeat: heartbeat, state: try? AgentState(heartbeat.state), now: now)
    }

    /// A heartbeat already read, with its `state` member already read (``PublishedMessage`` does both where the
    /// message is judged): how many were missed before it. `heartbeat.state` is not looked at.
    public mutating func heartbeat(agentID: String, heartbeat: Heartbeat, state: AgentState?, now: Int64) -> Int {
        // Changed in place: a fleet's records are large, and one heartbeat must not copy one.
        Self.apply(heartbeat, state: state, to: &records[agentID, default: AgentRecord(agentID: agentID)], now: now)
    }

    private static func apply(
        _ heartbeat: Heartbeat,
        state: AgentState?,
        to record: inout AgentRecord,
        now: Int64
    )
        -> Int
    {
        let seq = heartbeat.seq
        var info = record.heartbeat
        var missing = 0
        if var current = info, current.bootID == heartbeat.bootID {
            if seq > current.seq {
                missing = seq - current.seq - 1
                current.seq = seq
            } else {
                current.outOfOrder += 1
            }
            current.gaps = current.gaps.addingSaturating(missing)
            info = current
        } else {
            // A new boot starts at 1: anything before this heartbeat in the new boot was missed. The first heartbeat
            // the master ever sees from the agent (the master just started) shows nothing missing: the earlier ones
            // were sent before anyone listened.
            missing = info == nil ? 0 : seq - 1
            info = AgentRecord.HeartbeatInfo(
                receivedAt: now,
                seq: seq,
                sentAt: nil,
                intervalMillis: nil,
                bootID: heartbeat.bootID,
                count: info?.count ?? 0,
                gaps: (info?.gaps ?? 0).addingSaturating(missing),
                outOfOrder: info?.outOfOrder ?? 0
            )
        }
        info!.receivedAt = now
        info!.count += 1
        info!.sentAt = heartbeat.sentAtMillis.map(Int64.init)
        info!.intervalMillis = heartbeat.intervalMillis.map(WireLimits.clampInterval)
        record.heartbeat = info
        record.state = state
        record.running = heartbeat.running?.jsonValue ?? .null
        if record.bootID == nil { record.bootID = heartbeat.bootID }
        if !heartbeat.agentVersion.isEmpty { record.agentVersion = heartbeat.agentVersion }
        record.heard(now: now)
        return missing
    }

    /// A state object fresh from a `state` result.
    public mutating func state(agentID: String, state: JSONValue, now: Int64) {
        guard case .object = state, var record = records[agentID] else { return }
        record.state = try? AgentState(state)
        record.heard(now: now)
        records[agentID] = record
    }

    /// Anything else received from the agent.
    public mutating func seen(agentID: String, now: Int64) {
        records[agentID]?.heard(now: now)
    }

    /// The agent's command connection closed: it is not connected until its next hello.
    public mutating func closed(agentID: String) {
        guard records[agentID]?.connected == true else { return }
        records[agentID]?.connected = false
        records[agentID]?.disconnectReason = .closed
    }

    /// The agent's key was revoked: not connected, whatever it sends.
    public mutating func revoked(agentID: String) {
        records[agentID]?.connected = false
        records[agentID]?.disconnectReason = .revoked
    }

    /// A send to the agent failed: it is not connected (until its next hello).
    public mutating func unreachable(agentID: String) {
        guard records[agentID]?.connected == true else { return }
        records[agentID]?.connected = false
        records[agentID]?.disconnectReason = .sendFailed
    }

    /// Marks connected agents from which nothing arrived for longer than `limit(record)` milliseconds as silent
    /// (not connected, so requests wait for them), and returns their ids. A silent agent is connected again by
    /// its next hello, heartbeat or answer.
    public mutating func silence(now: Int64, limit: (AgentRecord) -> Int64) -> [String] {
        var silenced: [String] = []
        // Walked in place on every timer tick: no record of the fleet is copied (reading `records.values[index]`
        // would copy each one, retaining every string and array in it; passing it inout does not). The loop holds a
        // bare index, not `records.values.indices`, which would keep a second reference to the dictionary's storage
        // and make the first change copy all of it.
        var index = records.values.startIndex
        while index != records.values.endIndex {
            if Self.silenceIfDue(&records.values[index], now: now, limit: limit) {
                silenced.append(records.keys[index])
            }
            records.values.formIndex(after: &index)
        }
        return silenced.sorted()
    }

    private static func silenceIfDue(
        _ record: inout AgentRecord,
        now: Int64,
        limit: (AgentRecord) -> Int64
    ) -> Bool {
        guard record.connected, let last = record.lastSeenAt, now - last > limit(record) else { return false }
        record.connected = false
        record.disconnectReason = .silent
        return true
    }

    /// Why the agent is not connected, when it is not (read without copying its record).
    public mutating func disconnectReason(_ agentID: String) -> AgentRecord.DisconnectReason? {
        withRecord(agentID) { $0.disconnectReason } ?? nil
    }

    /// `body` applied to the agent's record, read in place. Mutating only so that the dictionary can lend the
    /// record: read through `records.values[index]`, a record is copied, every string and array in it retained and
    /// released again, and the master reads records on every heartbeat.
    mutating func withRecord<T>(_ agentID: String, _ body: (borrowing AgentRecord) -> T) -> T? {
        guard let index = records.index(forKey: agentID) else { return nil }
        return Self.lend(&records.values[index], to: body)
    }

    private static func lend<T>(_ record: inout AgentRecord, to body: (borrowing AgentRecord) -> T) -> T {
        body(record)
    }

    /// Whether requests may be sent to the agent now.
    public mutating func isConnected(_ agentID: String) -> Bool { withRecord(agentID) { $0.connected } ?? false }

    /// The agents in id order.
    public var sortedRecords: [AgentRecord] { records.keys.sorted().map { records[$0]! } }
}
