import DecnetJSON
import ZeroMQ

/// The master's counters: what it received, relayed, dropped (by reason) and retried, and how handshakes on each
/// socket ended. Shown by `decnet-master agents --json` under `counters`.
public struct MasterCounters: Sendable, Equatable {
    /// The three CURVE server sockets.
    public enum SocketRole: String, Sendable, CaseIterable {
        case command, heartbeat, monitor
    }

    /// Connection events of one socket, from its libzmq monitor.
    public struct Handshakes: Sendable, Equatable {
        public var accepted = 0
        public var succeeded = 0
        /// Refused by the ZAP handler (unknown or revoked key).
        public var failedAuth = 0
        /// Wrong mechanism (a plain client), bad CURVE keys or garbage before the handshake completed.
        public var failedProtocol = 0
        public var failedOther = 0
        /// Sessions ended: peers gone, ZMTP heartbeat timeouts, and frames over `ZMQ_MAXMSGSIZE` (libzmq drops
        /// the connection of a peer that sends one).
        public var disconnected = 0
    }

    public var handshakes: [SocketRole: Handshakes] = [:]
    public var dropped: [DropReason: Int] = [:]
    public var receivedCommand = 0
    public var receivedPublished = 0
    public var receivedControl = 0
    public var relayedHeartbeats = 0
    public var relayedEvents = 0
    public var heartbeatGaps = 0
    /// Times a connected agent went silent for longer than the ``SilencePolicy`` allows.
    public var silentAgents = 0
    public var requestsSent = 0
    public var requestsResent = 0
    public var results = 0
    public var timeouts = 0
    /// Answers for requests the master no longer waits for (late duplicates of retries).
    public var staleAnswers = 0
    public var controlErrors = 0
    /// Connections the master cut, by reason.
    public var cuts: [CutReason: Int] = [:]
    /// Agents told `revoked` because their key left the allow-list.
    public var revocations = 0

    public init() {}

    public var totalDropped: Int { dropped.values.reduce(0, +) }

    mutating func drop(_ reason: DropReason) { dropped[reason, default: 0] += 1 }
    mutating func cut(_ reason: CutReason) { cuts[reason, default: 0] += 1 }

    /// Counts one monitor event of a socket.
    mutating func record(_ event: SocketEvent, on role: SocketRole) {
        var entry = handshakes[role] ?? Handshakes()
        switch event.kind {
        case .accepted: entry.accepted += 1
        case .handshakeSucceeded: entry.succeeded += 1
        case .handshakeFailedAuth: entry.failedAuth += 1
        case .handshakeFailedProtocol: entry.failedProtocol += 1
        case .handshakeFailedNoDetail: entry.failedOther += 1
        case .disconnected: entry.disconnected += 1
        default: return
        }
        handshakes[role] = entry
    }

    /// The counters as JSON, with the ZAP handlers' statistics (`zap.agents`, `zap.monitors`).
    public func jsonValue(
        agentsZAP: ZAPHandler.Statistics?,
        monitorsZAP: ZAPHandler.Statistics?,
        openConnections: Int = 0,
        logSuppressed: [String: Int] = [:],
        subscriptions: SubscriptionGate.Statistics? = nil,
        allowListIssues: [String] = [],
        enrolment: JSONValue = .null
    ) -> JSONValue {
        func zap(_ stats: ZAPHandler.Statistics?) -> JSONValue {
            guard let stats else { return .null }
            return [
                "requests": JSONValue(stats.requests), "allowed": JSONValue(stats.allowed),
                "denied": JSONValue(stats.denied), "malformed": JSONValue(stats.malformed),
            ]
        }
        var sockets = JSONObject()
        for role in SocketRole.allCases {
            let h = handshakes[role] ?? Handshakes()
            sockets[role.rawValue] = [
                "accepted": JSONValue(h.accepted), "succeeded": JSONValue(h.succeeded),
                "failed_auth": JSONValue(h.failedAuth), "failed_protocol": JSONValue(h.failedProtocol),
                "failed_other": JSONValue(h.failedOther), "disconnected": JSONValue(h.disconnected),
            ]
        }
        var drops = JSONObject()
        for reason in DropReason.allCases.sorted() { drops[reason.rawValue] = JSONValue(dropped[reason] ?? 0) }
        let refused =
            (agentsZAP?.denied ?? 0) + (monitorsZAP?.denied ?? 0) + (agentsZAP?.malformed ?? 0)
            + (monitorsZAP?.malformed ?? 0)
        return [
            "refused_handshakes": JSONValue(refused),
            "zap": ["agents": zap(agentsZAP), "monitors": zap(monitorsZAP)],
            "handshakes": .object(sockets),
            "dropped": .object(drops),
            "dropped_total": JSONValue(totalDropped),
            "received": [
                "command": JSONValue(receivedCommand), "published": JSONValue(receivedPublished),
                "control": JSONValue(receivedControl),
            ],
            "relayed": ["heartbeats": JSONValue(relayedHeartbeats), "events": JSONValue(relayedEvents)],
            "heartbeat_gaps": JSONValue(heartbeatGaps),
            "silent_agents": JSONValue(silentAgents),
            "requests": [
                "sent": JSONValue(requestsSent), "resent": JSONValue(requestsResent), "results": JSONValue(results),
                "timeouts": JSONValue(timeouts), "stale_answers": JSONValue(staleAnswers),
            ],
            "control_errors": JSONValue(controlErrors),
            "connections": [
                "cut": .object(
                    JSONObject(CutReason.allCases.sorted().map { (JSONString($0.rawValue), JSONValue(cuts[$0] ?? 0)) })
                ),
                "refused": JSONValue(cuts[.overCapacity] ?? 0),
                "open": JSONValue(openConnections),
            ],
            "log_suppressed": .object(
                JSONObject(logSuppressed.keys.sorted().map { (JSONString($0), JSONValue(logSuppressed[$0]!)) })
            ),
            "revocations": JSONValue(revocations),
            "enrolment": enrolment,
            "allow_list": ["issues": .array(allowListIssues.prefix(100).map { .string(JSONString($0)) })],
            "subscriptions": [
                "held": JSONValue(subscriptions?.held ?? 0),
                "refused_over_limit": JSONValue(subscriptions?.refusedOverLimit ?? 0),
                "refused_too_long": JSONValue(subscriptions?.refusedTooLong ?? 0),
            ],
        ]
    }
}
