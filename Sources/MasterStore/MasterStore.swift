import AgentStore
import Logging
import Synchronization

/// The master's durable state (`RUN_DIR/master.db`, docs/control-channel.md#master-store): each agent's desired
/// topology or "none", every apply and teardown the master sent with its outcome, the agents it has seen with their
/// last state and pause flag, and the topologies it applied on each agent.
///
/// It uses the agent store's SQLite wrapper (`Connection`, `StoreFiles`, `TopologyStore.configure`) with the same
/// care: file and siblings 0600, WAL, `synchronous=FULL` (a commit survives `kill -9` and power loss), a versioned
/// schema that refuses newer or foreign files. The connection is reached only under a `Mutex`; calls block for one
/// `fsync` per write, so the master batches what is frequent (reported states) and writes the rest as it happens.
public final class MasterStore: Sendable {
    public static let fileName = "master.db"
    /// Finished requests older than this (milliseconds) are deleted by ``trim(now:)``, except the newest ``keepNewest``.
    public static let keepMillis: Int64 = 7 * 24 * 3_600_000
    public static let keepNewest = 1_000
    /// Whatever their age, at most this many finished requests are kept per agent (the newest), so one agent stuck
    /// in a reconcile loop cannot fill the file (docs/control-channel.md#master-store).
    public static let keepPerAgent = 100
    /// `requests` answers at most this many (docs/control-channel.md#requests).
    public static let listLimit = 1_000

    public let path: String
    private let connection: Mutex<Connection?>

    /// Opens (creating it and the directory when missing) `<directory>/master.db`. `now` is Unix milliseconds.
    public init(directory: String, now: Int64, logger: Logger = TopologyStore.silentLogger) throws(StoreError) {
        try StoreFiles.makeDirectory(directory)
        let path = directory + (directory.hasSuffix("/") ? "" : "/") + Self.fileName
        self.path = path
        try StoreFiles.prepareDatabaseFile(path)
        let opened = try Connection(path: path, readOnly: false, create: false, logger: logger)
        do {
            try TopologyStore.configure(opened, readOnly: false)
            try MasterStoreSchema.migrate(opened, now: now)
        } catch {
            opened.close()
            throw error
        }
        connection = Mutex(opened)
    }

    deinit { close() }

    /// Closes the file; later calls throw `closed`.
    public func close() {
        connection.withLock { connection in
            connection?.close()
            connection = nil
        }
    }

    func with<T: Sendable>(_ operation: String, _ body: (Connection) throws(StoreError) -> T) throws(StoreError) -> T {
        try connection.withLock { (c: inout Connection?) throws(StoreError) -> T in
            guard let open = c, open.isOpen else {
                throw StoreError(code: .closed, operation: operation, message: "the master store is closed")
            }
            return try body(open)
        }
    }

    // MARK: desired state

    /// Every agent's desired state, in id order.
    public func allDesired() throws(StoreError) -> [DesiredRecord] {
        try with("read desired") { (c) throws(StoreError) in
            try c.rows(
                """
                SELECT agent_id, topology_id, version_hash, hydrated_json, supersede, request_id, set_at
                FROM desired ORDER BY agent_id
                """,
                operation: "read desired",
                Self.desired
            )
        }
    }

    /// The desired state of one agent.
    public func desired(_ agentID: String) throws(StoreError) -> DesiredRecord? {
        try with("read desired") { (c) throws(StoreError) in
            try c.row(
                """
                SELECT agent_id, topology_id, version_hash, hydrated_json, supersede, request_id, set_at
                FROM desired WHERE agent_id = ?
                """,
                [.text(agentID)],
                operation: "read desired",
                Self.desired
            )
        }
    }

    private static func desired(_ s: Statement) -> DesiredRecord {
        var topology: DesiredRecord.Topology?
        if let id = s.text(1), let hash = s.text(2), let blob = s.bytes(3) {
            topology = DesiredRecord.Topology(id: id, versionHash: hash, hydrated: blob, supersede: s.int64(4) != 0)
        }
        return DesiredRecord(
            agentID: s.text(0) ?? "",
            topology: topology,
            requestID: s.text(5) ?? "",
            setAt: s.int64(6)
        )
    }

    /// Records an operator's request and, with it, the agent's new desired state, in one transaction; a request id
    /// already stored for the agent changes nothing (``DesireOutcome``).
    public func recordDesire(_ request: StoredRequest, desired: DesiredRecord) throws(StoreError) -> DesireOutcome {
        precondition(request.agentID == desired.agentID && request.requestID == desired.requestID)
        return try with("record desire") { (c) throws(StoreError) -> DesireOutcome in
            try c.transaction(operation: "record desire") { () throws(StoreError) -> DesireOutcome in
                if let existing = try Self.request(c, agentID: request.agentID, requestID: request.requestID) {
                    return existing.fingerprint == request.fingerprint ? .repeated(existing) : .idReused
                }
                try Self.insert(request, into: c)
                let topology = desired.topology
                try c.run(
                    """
                    INSERT INTO desired (agent_id, topology_id, version_hash, hydrated_json, supersede, request_id, set_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (agent_id) DO UPDATE SET topology_id = excluded.topology_id,
                        version_hash = excluded.version_hash, hydrated_json = excluded.hydrated_json,
                        supersede = excluded.supersede, request_id = excluded.request_id, set_at = excluded.set_at
                    """,
                    [
                        .text(desired.agentID), topology.map { .text($0.id) } ?? .null,
                        topology.map { .text($0.versionHash) } ?? .null,
                        topology.map { .textBytes($0.hydrated) } ?? .null,
                        .integer(topology?.supersede == true ? 1 : 0), .text(desired.requestID),
                        .integer(desired.setAt),
                    ],
                    operation: "record desire"
                )
                if let topology {
                    try Self.noteApplied(c, agentID: desired.agentID, topologyID: topology.id, at: request.createdAt)
                }
                return .recorded
            }
        }
    }

    /// Drops an agent's desired state; answers whether there was one. The agent's `applied_here` rows stay: what
    /// the master put on an agent is a fact a later desire of "none" acts on (docs/control-channel.md#desired).
    @discardableResult
    public func forget(_ agentID: String) throws(StoreError) -> Bool {
        try with("forget") { (c) throws(StoreError) in
            try c.run("DELETE FROM desired WHERE agent_id = ?", [.text(agentID)], operation: "forget") > 0
        }
    }

    // MARK: requests

    /// Records a request the master is about to send (reconcile pushes, plain submits); an apply also records its
    /// topology in `applied_here`. A request already stored is left as it is.
    public func recordRequest(_ request: StoredRequest, appliedTopologyID: String?) throws(StoreError) {
        try with("record request") { (c) throws(StoreError) in
            try c.transaction(operation: "record request") { () throws(StoreError) in
                guard try Self.request(c, agentID: request.agentID, requestID: request.requestID) == nil else { return }
                try Self.insert(request, into: c)
                if let appliedTopologyID {
                    try Self.noteApplied(
                        c,
                        agentID: request.agentID,
                        topologyID: appliedTopologyID,
                        at: request.createdAt
                    )
                }
            }
        }
    }

    /// One stored request.
    public func request(agentID: String, requestID: String) throws(StoreError) -> StoredRequest? {
        try with("read request") { (c) throws(StoreError) in
            try Self.request(c, agentID: agentID, requestID: requestID)
        }
    }

    /// Requests without an outcome, oldest first: what a crashed master left in flight.
    public func unfinishedRequests() throws(StoreError) -> [StoredRequest] {
        try with("read requests") { (c) throws(StoreError) in
            try c.rows(
                "\(Self.selectRequest) WHERE finished_at IS NULL ORDER BY created_at, agent_id, id",
                operation: "read requests",
                Self.request
            )
        }
    }

    /// Writes a request's outcome (the control message that ended it); answers false when it was not stored or had
    /// one already.
    @discardableResult
    public func finish(agentID: String, requestID: String, outcome: [UInt8], at: Int64) throws(StoreError) -> Bool {
        try with("finish request") { (c) throws(StoreError) in
            try c.run(
                "UPDATE request SET finished_at = ?, outcome_json = ? WHERE agent_id = ? AND id = ? AND finished_at IS NULL",
                [.integer(at), .textBytes(outcome), .text(agentID), .text(requestID)],
                operation: "finish request"
            ) > 0
        }
    }

    /// Deletes finished requests by the store's rule (docs/control-channel.md#master-store), in one transaction;
    /// answers how many. `now` is Unix milliseconds.
    ///
    /// * A request finished more than ``keepMillis`` before `now` goes, unless it is among the ``keepNewest``
    ///   newest finished requests of all agents.
    /// * Whatever its age, a finished request goes when its agent has ``keepPerAgent`` newer finished ones.
    /// * The request that set an agent's current desired state is always kept (`desired.request_id`), so the
    ///   operator can still look it up; requests without an outcome are never deleted.
    @discardableResult
    public func trim(now: Int64) throws(StoreError) -> Int {
        try with("trim requests") { (c) throws(StoreError) in
            try c.transaction(operation: "trim requests") { () throws(StoreError) -> Int in
                let aged = try c.run(
                    """
                    DELETE FROM request WHERE finished_at IS NOT NULL AND finished_at < ? AND rowid NOT IN
                        (SELECT rowid FROM request WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT ?)
                        AND \(Self.notDesired)
                    """,
                    [.integer(now - Self.keepMillis), .integer(Int64(Self.keepNewest))],
                    operation: "trim requests"
                )
                let crowded = try c.run(
                    """
                    DELETE FROM request WHERE rowid IN (SELECT rowid FROM (SELECT rowid, row_number() OVER
                        (PARTITION BY agent_id ORDER BY finished_at DESC, rowid DESC) AS newer
                        FROM request WHERE finished_at IS NOT NULL) WHERE newer > ?)
                        AND \(Self.notDesired)
                    """,
                    [.integer(Int64(Self.keepPerAgent))],
                    operation: "trim requests"
                )
                return aged + crowded
            }
        }
    }

    /// A `request` row that did not set its agent's current desired state.
    private static let notDesired = """
        NOT EXISTS (SELECT 1 FROM desired WHERE desired.agent_id = request.agent_id AND desired.request_id = request.id)
        """

    // MARK: looking requests up

    /// What the store knows of one request, or `nil` when it holds none with this id for the agent.
    public func summary(agentID: String, requestID: String) throws(StoreError) -> RequestSummary? {
        try with("read request") { (c) throws(StoreError) in
            try c.row(
                "\(Self.selectSummary) WHERE agent_id = ? AND id = ?",
                [.text(agentID), .text(requestID)],
                operation: "read request",
                Self.summary
            )
        }
    }

    /// The agent's most recent requests, newest first (by creation), at most `limit` (clamped into
    /// 1...``listLimit``).
    public func summaries(agentID: String, limit: Int) throws(StoreError) -> [RequestSummary] {
        let limit = min(max(limit, 1), Self.listLimit)
        return try with("read requests") { (c) throws(StoreError) in
            try c.rows(
                "\(Self.selectSummary) WHERE agent_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
                [.text(agentID), .integer(Int64(limit))],
                operation: "read requests",
                Self.summary
            )
        }
    }

    /// The columns of a ``RequestSummary``: the topology id (an apply's `hydrated.topology.id`, a teardown's
    /// `topology_id`) and an apply's `version_hash` are read out of the stored envelope by SQLite, so a listing
    /// never copies the hydrated blobs; a member that is not a string reads as `NULL`.
    static let selectSummary = """
        SELECT agent_id, id, type, origin,
            CASE WHEN json_valid(request_json) AND json_type(request_json, \(topologyPath)) = 'text'
                THEN json_extract(request_json, \(topologyPath)) END,
            CASE WHEN type = 'apply' AND json_valid(request_json)
                AND json_type(request_json, '$.version_hash') = 'text'
                THEN json_extract(request_json, '$.version_hash') END,
            created_at, deadline_at, finished_at, outcome_json
        FROM request
        """
    private static let topologyPath = "CASE type WHEN 'apply' THEN '$.hydrated.topology.id' ELSE '$.topology_id' END"

    private static func summary(_ s: Statement) -> RequestSummary {
        RequestSummary(
            agentID: s.text(0) ?? "",
            requestID: s.text(1) ?? "",
            type: s.text(2) ?? "",
            origin: StoredRequest.Origin(rawValue: s.text(3) ?? "") ?? .submit,
            topologyID: s.text(4),
            versionHash: s.text(5),
            createdAt: s.int64(6),
            deadlineAt: s.int64(7),
            finishedAt: s.isNull(8) ? nil : s.int64(8),
            outcome: s.bytes(9)
        )
    }

    static let selectRequest = """
        SELECT agent_id, id, type, fingerprint, request_json, origin, created_at, deadline_at, finished_at, outcome_json
        FROM request
        """

    private static func request(
        _ c: Connection,
        agentID: String,
        requestID: String
    ) throws(StoreError) -> StoredRequest? {
        try c.row(
            "\(selectRequest) WHERE agent_id = ? AND id = ?",
            [.text(agentID), .text(requestID)],
            operation: "read request",
            request
        )
    }

    private static func request(_ s: Statement) -> StoredRequest {
        StoredRequest(
            agentID: s.text(0) ?? "",
            requestID: s.text(1) ?? "",
            type: s.text(2) ?? "",
            fingerprint: s.text(3) ?? "",
            request: s.bytes(4) ?? [],
            origin: StoredRequest.Origin(rawValue: s.text(5) ?? "") ?? .submit,
            createdAt: s.int64(6),
            deadlineAt: s.int64(7),
            finishedAt: s.isNull(8) ? nil : s.int64(8),
            outcome: s.bytes(9)
        )
    }

    private static func insert(_ request: StoredRequest, into c: Connection) throws(StoreError) {
        try c.run(
            """
            INSERT INTO request (agent_id, id, type, fingerprint, request_json, origin, created_at, deadline_at,
                finished_at, outcome_json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(request.agentID), .text(request.requestID), .text(request.type), .text(request.fingerprint),
                .textBytes(request.request), .text(request.origin.rawValue), .integer(request.createdAt),
                .integer(request.deadlineAt), request.finishedAt.map { .integer($0) } ?? .null,
                request.outcome.map { .textBytes($0) } ?? .null,
            ],
            operation: "record request"
        )
    }

    private static func noteApplied(_ c: Connection, agentID: String, topologyID: String, at: Int64) throws(StoreError)
    {
        try c.run(
            "INSERT INTO applied_here (agent_id, topology_id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [.text(agentID), .text(topologyID), .integer(at)],
            operation: "record applied topology"
        )
    }

    // MARK: agents

    /// The topologies the master sent an apply for, per agent.
    public func appliedHere() throws(StoreError) -> [String: Set<String>] {
        let pairs = try with("read applied") { (c) throws(StoreError) in
            try c.rows("SELECT agent_id, topology_id FROM applied_here", operation: "read applied") {
                ($0.text(0) ?? "", $0.text(1) ?? "")
            }
        }
        var result: [String: Set<String>] = [:]
        for (agent, topology) in pairs { result[agent, default: []].insert(topology) }
        return result
    }

    /// Every agent seen or paused, in id order.
    public func agents() throws(StoreError) -> [SeenAgent] {
        try with("read agents") { (c) throws(StoreError) in
            try c.rows(
                "SELECT agent_id, paused, seen_at, state_json FROM agent ORDER BY agent_id",
                operation: "read agents"
            ) {
                SeenAgent(
                    agentID: $0.text(0) ?? "",
                    paused: $0.int64(1) != 0,
                    seenAt: $0.isNull(2) ? nil : $0.int64(2),
                    state: $0.bytes(3)
                )
            }
        }
    }

    /// Sets or clears an agent's pause flag.
    public func setPaused(_ agentID: String, _ paused: Bool) throws(StoreError) {
        try with("pause") { (c) throws(StoreError) in
            try c.run(
                """
                INSERT INTO agent (agent_id, paused) VALUES (?, ?)
                ON CONFLICT (agent_id) DO UPDATE SET paused = excluded.paused
                """,
                [.text(agentID), .integer(paused ? 1 : 0)],
                operation: "pause"
            )
        }
    }

    /// Writes the last reported state of several agents in one transaction (one `fsync`).
    public func saveReports(_ reports: [(agentID: String, seenAt: Int64, state: [UInt8]?)]) throws(StoreError) {
        guard !reports.isEmpty else { return }
        try with("save reports") { (c) throws(StoreError) in
            try c.transaction(operation: "save reports") { () throws(StoreError) in
                for report in reports {
                    try c.run(
                        """
                        INSERT INTO agent (agent_id, seen_at, state_json) VALUES (?, ?, ?)
                        ON CONFLICT (agent_id) DO UPDATE SET seen_at = excluded.seen_at, state_json = excluded.state_json
                        """,
                        [.text(report.agentID), .integer(report.seenAt), report.state.map { .textBytes($0) } ?? .null],
                        operation: "save reports"
                    )
                }
            }
        }
    }
}
