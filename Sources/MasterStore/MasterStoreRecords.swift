/// What one agent should run, as the master keeps it (docs/control-channel.md#desired-state).
public struct DesiredRecord: Sendable, Equatable {
    public var agentID: String
    /// The desired topology, or `nil` for "none" (nothing of the master's should run there).
    public var topology: Topology?
    /// The operator request that set it.
    public var requestID: String
    /// Unix milliseconds.
    public var setAt: Int64

    public struct Topology: Sendable, Equatable {
        public var id: String
        /// The canonical hash of ``hydrated``, exactly as pushed and as the agent stores it.
        public var versionHash: String
        /// The hydrated blob, exactly the bytes that are pushed.
        public var hydrated: [UInt8]
        public var supersede: Bool

        public init(id: String, versionHash: String, hydrated: [UInt8], supersede: Bool) {
            self.id = id
            self.versionHash = versionHash
            self.hydrated = hydrated
            self.supersede = supersede
        }
    }

    public init(agentID: String, topology: Topology?, requestID: String, setAt: Int64) {
        self.agentID = agentID
        self.topology = topology
        self.requestID = requestID
        self.setAt = setAt
    }
}

/// One apply or teardown the master sent, with its outcome once known.
public struct StoredRequest: Sendable, Equatable {
    /// Who asked for it.
    public enum Origin: String, Sendable {
        /// An operator's `desire` (`decnet-master apply|teardown`).
        case `operator`
        /// The reconcile loop.
        case reconcile
        /// A plain control-channel `submit`.
        case submit
    }

    public var agentID: String
    public var requestID: String
    /// `apply` or `teardown`.
    public var type: String
    /// The agent's content fingerprint (docs/wire-protocol.md#delivery): a repeat must match it.
    public var fingerprint: String
    /// The request envelope exactly as sent.
    public var request: [UInt8]
    public var origin: Origin
    /// Unix milliseconds.
    public var createdAt: Int64
    /// Unix milliseconds: the request's one deadline, kept across master restarts.
    public var deadlineAt: Int64
    public var finishedAt: Int64?
    /// The control message that ended it (an `answer` with the agent's result, or a `control_error`), compact JSON.
    public var outcome: [UInt8]?

    public init(
        agentID: String,
        requestID: String,
        type: String,
        fingerprint: String,
        request: [UInt8],
        origin: Origin,
        createdAt: Int64,
        deadlineAt: Int64,
        finishedAt: Int64? = nil,
        outcome: [UInt8]? = nil
    ) {
        self.agentID = agentID
        self.requestID = requestID
        self.type = type
        self.fingerprint = fingerprint
        self.request = request
        self.origin = origin
        self.createdAt = createdAt
        self.deadlineAt = deadlineAt
        self.finishedAt = finishedAt
        self.outcome = outcome
    }
}

/// What the store knows of one request, without its content (docs/control-channel.md#request): what `request`
/// and `requests` answer.
public struct RequestSummary: Sendable, Equatable {
    public var agentID: String
    public var requestID: String
    /// `apply` or `teardown`.
    public var type: String
    public var origin: StoredRequest.Origin
    /// An apply's `hydrated.topology.id`, a teardown's `topology_id`; `nil` when the envelope has none.
    public var topologyID: String?
    /// An apply's `version_hash`; `nil` for a teardown.
    public var versionHash: String?
    /// Unix milliseconds.
    public var createdAt: Int64
    /// Unix milliseconds: the request's one deadline.
    public var deadlineAt: Int64
    public var finishedAt: Int64?
    /// The control message that ended it, compact JSON, as ``StoredRequest/outcome``.
    public var outcome: [UInt8]?

    public init(
        agentID: String,
        requestID: String,
        type: String,
        origin: StoredRequest.Origin,
        topologyID: String?,
        versionHash: String?,
        createdAt: Int64,
        deadlineAt: Int64,
        finishedAt: Int64? = nil,
        outcome: [UInt8]? = nil
    ) {
        self.agentID = agentID
        self.requestID = requestID
        self.type = type
        self.origin = origin
        self.topologyID = topologyID
        self.versionHash = versionHash
        self.createdAt = createdAt
        self.deadlineAt = deadlineAt
        self.finishedAt = finishedAt
        self.outcome = outcome
    }
}

/// An agent the master has seen (or paused), with the last state it reported.
public struct SeenAgent: Sendable, Equatable {
    public var agentID: String
    public var paused: Bool
    /// Unix milliseconds.
    public var seenAt: Int64?
    /// The last state object it reported, compact JSON.
    public var state: [UInt8]?

    public init(agentID: String, paused: Bool = false, seenAt: Int64? = nil, state: [UInt8]? = nil) {
        self.agentID = agentID
        self.paused = paused
        self.seenAt = seenAt
        self.state = state
    }
}

/// What `recordDesire` did.
public enum DesireOutcome: Sendable, Equatable {
    /// The request and the new desired state were written, in one transaction.
    case recorded
    /// The same request (same id and fingerprint) is already stored: nothing was written.
    case repeated(StoredRequest)
    /// The id is stored with other content: nothing was written.
    case idReused
}
