/// The last failed apply (table `attempt`, at most one row; docs/deviations.md#attempts): shown in `state` and
/// heartbeats so a failed first apply is visible, while `AppliedTopology.versionHash` keeps naming only complete
/// applies.
public struct ApplyAttempt: Sendable, Equatable {
    public var topologyID: String
    public var versionHash: String
    /// Unix seconds of the failure.
    public var at: Int64
    public var error: String

    public init(topologyID: String, versionHash: String, at: Int64, error: String) {
        self.topologyID = topologyID
        self.versionHash = versionHash
        self.at = at
        self.error = error
    }
}
