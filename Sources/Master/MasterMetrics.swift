import AgentProtocol
import CoreMetrics
import Synchronization
import ZeroMQ

/// The master's instruments (docs/metrics.md), made once from a swift-metrics factory and fed from the same places
/// that keep ``MasterCounters``. Every label value is known in advance, so each instrument is created up front and a
/// hook costs one call into its handler: with the Prometheus backend, one relaxed atomic increment for a counter.
/// ``disabled`` (the default) reports into swift-metrics' no-op handler.
public final class MasterMetrics: Sendable {
    /// Which inbound stream a message came from.
    public enum Source: String, Sendable, CaseIterable {
        case command, heartbeat, control
    }

    /// How a request ended, as `decnet_master_requests_total{outcome}` says it.
    public enum Outcome: String, Sendable, CaseIterable {
        /// A result with a 2xx status.
        case ok
        /// A result with any other status.
        case error
        case timeout, revoked, shutdown
        /// Any other master error code.
        case other
    }

    /// Handshake outcomes of a CURVE server socket, from its libzmq monitor.
    public enum Handshake: String, Sendable, CaseIterable {
        case succeeded
        case failedAuth = "failed_auth"
        case failedProtocol = "failed_protocol"
        case failedOther = "failed_other"
    }

    /// Buckets of the request duration histogram: a ping answers in milliseconds, an apply can run for minutes.
    public static let durationBuckets: [Double] = [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
    ]

    let agentsKnown: Gauge
    let agentsConnected: Gauge
    let requestsOutstanding: Gauge
    let connectionsOpen: Gauge
    let connectionsLimit: Gauge
    let descriptorsOpen: Gauge
    let descriptorsLimit: Gauge
    let heartbeatsRelayed: Counter
    let eventsRelayed: Counter
    let heartbeatGaps: Counter
    let agentsSilenced: Counter
    let staleAnswers: Counter
    let revocations: Counter
    let received: (command: Counter, heartbeat: Counter, control: Counter)
    let dropped: [DropReason: Counter]
    let handshakes: [MasterCounters.SocketRole: [Handshake: Counter]]
    let accepted: [MasterCounters.SocketRole: Counter]
    let disconnected: [MasterCounters.SocketRole: Counter]
    let cuts: [CutReason: Counter]
    let sends: (first: Counter, resend: Counter)
    let requests: [RequestType: [Outcome: Counter]]
    let durations: [RequestType: Timer]
    let zap: [String: [String: Counter]]
    let reconcilePushes: [ReconcileReason: Counter]
    /// The ZAP handlers count under their own lock; their totals are carried over at each scrape.
    private let zapSeen = Mutex([String: [String: Int]]())

    public init(factory: any MetricsFactory) {
        func gauge(_ name: MetricName, _ dimensions: [(String, String)] = []) -> Gauge {
            Gauge(label: name.rawValue, dimensions: dimensions, factory: factory)
        }
        func counter(_ name: MetricName, _ dimensions: [(String, String)] = []) -> Counter {
            Counter(label: name.rawValue, dimensions: dimensions, factory: factory)
        }
        func table<Key: Hashable>(_ keys: [Key], _ make: (Key) -> Counter) -> [Key: Counter] {
            Dictionary(uniqueKeysWithValues: keys.map { ($0, make($0)) })
        }
        agentsKnown = gauge(.agentsKnown)
        agentsConnected = gauge(.agentsConnected)
        requestsOutstanding = gauge(.requestsOutstanding)
        connectionsOpen = gauge(.connectionsOpen)
        connectionsLimit = gauge(.connectionsLimit)
        descriptorsOpen = gauge(.descriptorsOpen)
        descriptorsLimit = gauge(.descriptorsLimit)
        heartbeatsRelayed = counter(.heartbeatsRelayed)
        eventsRelayed = counter(.eventsRelayed)
        heartbeatGaps = counter(.heartbeatGaps)
        agentsSilenced = counter(.agentsSilenced)
        staleAnswers = counter(.staleAnswers)
        revocations = counter(.revocations)
        received = (
            counter(.messagesReceived, [("socket", Source.command.rawValue)]),
            counter(.messagesReceived, [("socket", Source.heartbeat.rawValue)]),
            counter(.messagesReceived, [("socket", Source.control.rawValue)])
        )
        dropped = table(DropReason.allCases.sorted()) { counter(.messagesDropped, [("reason", $0.rawValue)]) }
        let roles = MasterCounters.SocketRole.allCases
        handshakes = Dictionary(
            uniqueKeysWithValues: roles.map { role in
                (
                    role,
                    table(Handshake.allCases) {
                        counter(.handshakes, [("socket", role.rawValue), ("outcome", $0.rawValue)])
                    }
                )
            }
        )
        accepted = table(roles) { counter(.connectionsAccepted, [("socket", $0.rawValue)]) }
        disconnected = table(roles) { counter(.disconnections, [("socket", $0.rawValue)]) }
        cuts = table(CutReason.allCases.sorted()) { counter(.connectionsCut, [("reason", $0.rawValue)]) }
        sends = (counter(.requestSends, [("kind", "first")]), counter(.requestSends, [("kind", "resend")]))
        requests = Dictionary(
            uniqueKeysWithValues: RequestType.allCases.map { type in
                (
                    type,
                    table(Outcome.allCases) {
                        counter(.requests, [("type", type.rawValue), ("outcome", $0.rawValue)])
                    }
                )
            }
        )
        durations = Dictionary(
            uniqueKeysWithValues: RequestType.allCases.map {
                (
                    $0,
                    Timer(
                        label: MetricName.requestDuration.rawValue,
                        dimensions: [("type", $0.rawValue)],
                        factory: factory
                    )
                )
            }
        )
        reconcilePushes = table(MasterMetrics.pushReasons) { counter(.reconcilePushes, [("reason", $0.rawValue)]) }
        zap = Dictionary(
            uniqueKeysWithValues: ["agents", "monitors"].map { handler in
                (
                    handler,
                    table(["allowed", "denied", "malformed"]) {
                        counter(.zapRequests, [("handler", handler), ("verdict", $0)])
                    }
                )
            }
        )
    }

    /// The reasons a reconcile push starts for (the others make the loop wait).
    static let pushReasons: [ReconcileReason] = [.hashMismatch, .nothingApplied, .drift, .teardownDue]

    /// Instruments that report nowhere.
    public static let disabled = MasterMetrics(factory: NOOPMetricsHandler.instance)

    // MARK: hooks (called by MasterCore where it counts the same things)

    func heartbeatRelayed() { heartbeatsRelayed.increment() }
    func eventRelayed() { eventsRelayed.increment() }
    func heartbeatsMissing(_ count: Int) { heartbeatGaps.increment(by: max(0, count)) }
    func agentSilenced() { agentsSilenced.increment() }
    func staleAnswer() { staleAnswers.increment() }
    func revoked() { revocations.increment() }
    /// A switch, not a dictionary: this runs for every heartbeat.
    func received(_ source: Source) {
        switch source {
        case .command: received.command.increment()
        case .heartbeat: received.heartbeat.increment()
        case .control: received.control.increment()
        }
    }
    func dropped(_ reason: DropReason) { dropped[reason]?.increment() }
    func cut(_ reason: CutReason) { cuts[reason]?.increment() }
    func sent(resend: Bool) { (resend ? sends.resend : sends.first).increment() }

    func socketEvent(_ kind: SocketEvent.Kind, role: MasterCounters.SocketRole) {
        switch kind {
        case .accepted: accepted[role]?.increment()
        case .disconnected: disconnected[role]?.increment()
        case .handshakeSucceeded: handshakes[role]?[.succeeded]?.increment()
        case .handshakeFailedAuth: handshakes[role]?[.failedAuth]?.increment()
        case .handshakeFailedProtocol: handshakes[role]?[.failedProtocol]?.increment()
        case .handshakeFailedNoDetail: handshakes[role]?[.failedOther]?.increment()
        default: break
        }
    }

    func finished(_ type: RequestType, outcome: Outcome, nanoseconds: Int64) {
        requests[type]?[outcome]?.increment()
        durations[type]?.recordNanoseconds(max(0, nanoseconds))
    }

    /// The ZAP handlers' totals now: each counter grows by what its handler counted since the last scrape.
    func carryOver(zap statistics: (agents: ZAPHandler.Statistics?, monitors: ZAPHandler.Statistics?)) {
        let now: [String: [String: Int]] = [
            "agents": Self.verdicts(statistics.agents), "monitors": Self.verdicts(statistics.monitors),
        ]
        let deltas = zapSeen.withLock { seen -> [(String, String, Int)] in
            var deltas: [(String, String, Int)] = []
            for (handler, verdicts) in now {
                for (verdict, total) in verdicts {
                    let before = seen[handler]?[verdict] ?? 0
                    if total > before { deltas.append((handler, verdict, total - before)) }
                    seen[handler, default: [:]][verdict] = max(before, total)
                }
            }
            return deltas
        }
        for (handler, verdict, delta) in deltas { zap[handler]?[verdict]?.increment(by: delta) }
    }

    private static func verdicts(_ statistics: ZAPHandler.Statistics?) -> [String: Int] {
        guard let statistics else { return [:] }
        return ["allowed": statistics.allowed, "denied": statistics.denied, "malformed": statistics.malformed]
    }

    /// The gauges, set at each scrape from the core's state and the process's descriptors.
    func setGauges(
        health: MasterHealth,
        openConnections: Int,
        connectionLimit: Int,
        descriptors: (open: Int, limit: Int)
    ) {
        agentsKnown.record(health.knownAgents)
        agentsConnected.record(health.connectedAgents)
        requestsOutstanding.record(health.outstandingRequests)
        connectionsOpen.record(openConnections)
        connectionsLimit.record(connectionLimit)
        descriptorsOpen.record(descriptors.open)
        descriptorsLimit.record(descriptors.limit)
    }
}
