/// Every metric the master exports (docs/metrics.md): its Prometheus name, type, labels and HELP text, declared once.
/// ``MasterMetrics`` creates its instruments by these names; the exporter takes the HELP text from here.
public enum MetricName: String, Sendable, CaseIterable {
    case agentsKnown = "decnet_master_agents_known"
    case agentsConnected = "decnet_master_agents_connected"
    case requestsOutstanding = "decnet_master_requests_outstanding"
    case heartbeatsRelayed = "decnet_master_heartbeats_relayed_total"
    case eventsRelayed = "decnet_master_events_relayed_total"
    case heartbeatGaps = "decnet_master_heartbeat_gaps_total"
    case agentsSilenced = "decnet_master_agents_silenced_total"
    case messagesReceived = "decnet_master_messages_received_total"
    case messagesDropped = "decnet_master_messages_dropped_total"
    case handshakes = "decnet_master_handshakes_total"
    case zapRequests = "decnet_master_zap_requests_total"
    case connectionsAccepted = "decnet_master_connections_accepted_total"
    case disconnections = "decnet_master_disconnections_total"
    case connectionsCut = "decnet_master_connections_cut_total"
    case revocations = "decnet_master_revocations_total"
    case requestSends = "decnet_master_request_sends_total"
    case requests = "decnet_master_requests_total"
    case requestDuration = "decnet_master_request_duration_seconds"
    case staleAnswers = "decnet_master_stale_answers_total"
    case connectionsOpen = "decnet_master_connections_open"
    case connectionsLimit = "decnet_master_connections_limit"
    case descriptorsOpen = "decnet_master_descriptors_open"
    case descriptorsLimit = "decnet_master_descriptors_limit"
    case endpointRefused = "decnet_master_metrics_connections_refused_total"
    case reconcilePushes = "decnet_master_reconcile_pushes_total"

    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    public var kind: Kind {
        switch self {
        case .agentsKnown, .agentsConnected, .requestsOutstanding, .connectionsOpen, .connectionsLimit,
            .descriptorsOpen, .descriptorsLimit:
            .gauge
        case .requestDuration: .histogram
        default: .counter
        }
    }

    /// The label names, in the order they are exported.
    public var labels: [String] {
        switch self {
        case .messagesReceived, .connectionsAccepted, .disconnections: ["socket"]
        case .messagesDropped, .connectionsCut, .endpointRefused, .reconcilePushes: ["reason"]
        case .handshakes: ["socket", "outcome"]
        case .zapRequests: ["handler", "verdict"]
        case .requestSends: ["kind"]
        case .requests: ["type", "outcome"]
        case .requestDuration: ["type"]
        default: []
        }
    }

    public var help: String {
        switch self {
        case .agentsKnown: "Agents that said hello or sent a heartbeat since the master started."
        case .agentsConnected: "Agents taken as connected now."
        case .requestsOutstanding: "Requests submitted and not finished yet."
        case .heartbeatsRelayed: "Heartbeats admitted and relayed to the monitors."
        case .eventsRelayed: "Request events (accepted, progress, result) relayed to the monitors."
        case .heartbeatGaps: "Heartbeats missing by sequence number, summed over agents (a master restart adds some)."
        case .agentsSilenced: "Times a connected agent went silent for longer than its heartbeat interval allows."
        case .messagesReceived: "Messages read from each inbound socket, before admission."
        case .messagesDropped: "Inbound messages dropped, by reason."
        case .handshakes: "CURVE handshakes on each server socket, by outcome (failed_auth: refused by ZAP)."
        case .zapRequests: "ZAP requests answered by each handler (agents, monitors), by verdict."
        case .connectionsAccepted: "TCP connections accepted on each server socket."
        case .disconnections: "Sessions ended on each server socket (peer gone, heartbeat timeout, oversize frame)."
        case .connectionsCut: "Connections the master cut, by reason."
        case .revocations: "Agents told revoked because their key left the allow-list."
        case .requestSends: "Requests handed to the command socket, first sends and re-sends."
        case .requests: "Requests finished, by type and outcome."
        case .requestDuration: "Seconds from a request's submission to its end, by type."
        case .staleAnswers: "Answers for requests the master no longer waits for."
        case .connectionsOpen: "Connections open on the three CURVE server sockets."
        case .connectionsLimit: "Connections the master keeps open at most (from the descriptor limit)."
        case .descriptorsOpen: "File descriptors open in the master process."
        case .descriptorsLimit: "The master process's soft descriptor limit (RLIMIT_NOFILE)."
        case .endpointRefused: "Connections to the metrics endpoint closed before an answer, by reason."
        case .reconcilePushes: "Applies and teardowns the reconcile loop started, by the reason it saw."
        }
    }
}
