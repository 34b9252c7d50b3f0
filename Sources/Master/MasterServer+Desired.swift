import DecnetJSON

extension MasterServer {
    /// The `desired` message (docs/control-channel.md#desired) for one agent, or for every agent the master knows.
    public func desired(agentID: String? = nil) async -> JSONValue {
        await core.desiredSnapshot(agents: agentID.map { [$0] })
    }
}
