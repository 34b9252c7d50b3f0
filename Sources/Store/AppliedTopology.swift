import DecnetJSON

/// The topology this agent applied completely, as the store remembers it (table `applied`, at most one row).
///
/// A cache for `state` and heartbeats, never a source of truth: the agent does not re-apply it at start-up.
public struct AppliedTopology: Sendable, Equatable {
    public var topologyID: String
    /// The canonical hash of `hydrated`; only ever a hash whose apply finished completely.
    public var versionHash: String
    /// The hydrated topology as the master sent it, parsed back with CPython semantics.
    public var hydrated: JSONValue
    /// Unix seconds of the last successful apply.
    public var appliedAt: Int64
    /// The error of the last failed re-apply of this same topology, cleared by the next successful one.
    public var lastError: String?

    public init(topologyID: String, versionHash: String, hydrated: JSONValue, appliedAt: Int64, lastError: String?) {
        self.topologyID = topologyID
        self.versionHash = versionHash
        self.hydrated = hydrated
        self.appliedAt = appliedAt
        self.lastError = lastError
    }
}
