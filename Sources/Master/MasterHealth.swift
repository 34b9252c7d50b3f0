/// A one-line summary of a serving master, for the service manager's `STATUS=` and the watchdog: taken through the
/// core actor after every tick, so a master whose core stalls stops producing them.
public struct MasterHealth: Sendable, Equatable {
    /// Agents that ever said hello or sent a heartbeat since the master started.
    public var knownAgents: Int
    /// Of those, the ones taken as connected now.
    public var connectedAgents: Int
    /// Requests submitted and not yet finished.
    public var outstandingRequests: Int
    /// Problems found in the allow-list folders at their last read (`agents/NAME: ...`).
    public var allowListIssues: [String]

    public init(knownAgents: Int, connectedAgents: Int, outstandingRequests: Int, allowListIssues: [String]) {
        self.knownAgents = knownAgents
        self.connectedAgents = connectedAgents
        self.outstandingRequests = outstandingRequests
        self.allowListIssues = allowListIssues
    }

    /// `serving: 3 of 4 agents connected, 1 request outstanding; allow-list: agents/x.key: ...`.
    public var summary: String {
        var text = "serving: \(connectedAgents) of \(knownAgents) agent\(knownAgents == 1 ? "" : "s") connected"
        text += ", \(outstandingRequests) request\(outstandingRequests == 1 ? "" : "s") outstanding"
        if let first = allowListIssues.first {
            text += "; allow-list problem: \(first)"
            if allowListIssues.count > 1 { text += " (and \(allowListIssues.count - 1) more)" }
        }
        return text
    }
}

extension MasterCore {
    /// The summary now.
    public func health() -> MasterHealth {
        MasterHealth(
            knownAgents: fleet.records.count,
            connectedAgents: fleet.records.values.count { $0.connected },
            outstandingRequests: tracker.entries.count,
            allowListIssues: allowListIssues()
        )
    }
}
