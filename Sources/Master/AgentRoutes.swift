import ZeroMQ

/// Which command connection speaks for each agent: the one its latest valid `hello` arrived on.
///
/// The ROUTER names each connection by a routing id. Agents set none, so libzmq assigns a fresh one per
/// connection; a client that sets its own (an older agent, or one pretending) still only ever gets its own
/// commands, because a route is made only from a `hello` whose key is the agent's allow-list entry, and a command is
/// only ever sent over its agent's route. A newer hello replaces the route at once, whatever became of the old
/// connection (a NAT that dropped it silently, a restart). See docs/security.md#routing.
///
/// A plain value owned by the master's actor.
struct AgentRoutes: Sendable {
    struct Route: Sendable, Equatable {
        var routingId: [UInt8]
        /// The agent's public key (ZAP User-Id) on this connection.
        var key: String
        /// The TCP connection, when its descriptor was known: for noticing that it closed and for cutting it.
        var connection: PeerConnection?
        var since: Int64
    }

    private(set) var routes: [String: Route] = [:]
    /// Routing id to agent, to notice a routing id that another key now speaks on.
    private var owners: [[UInt8]: String] = [:]

    subscript(agentID: String) -> Route? { routes[agentID] }

    /// A valid hello from `agentID` on `routingId`; returns the route it replaces when that was another connection.
    mutating func hello(agentID: String, route: Route) -> Route? {
        let previous = routes[agentID]
        if let previous { owners[previous.routingId] = nil }
        if let other = owners[route.routingId], other != agentID { routes[other] = nil }
        routes[agentID] = route
        owners[route.routingId] = agentID
        guard let previous, previous.routingId != route.routingId else { return nil }
        return previous
    }

    /// Something arrived on `routingId` from `agentID`. When that routing id belonged to another agent's route, the
    /// connection is no longer that agent's: its route is dropped and its id returned.
    mutating func heard(agentID: String, routingId: [UInt8]) -> String? {
        guard let owner = owners[routingId], owner != agentID else { return nil }
        remove(owner)
        return owner
    }

    /// Forgets an agent's route; returns it.
    @discardableResult
    mutating func remove(_ agentID: String) -> Route? {
        guard let route = routes.removeValue(forKey: agentID) else { return nil }
        owners[route.routingId] = nil
        return route
    }

    /// The agents whose route ran over a connection on `descriptor` that is now closed (or carries another
    /// connection); their routes are removed.
    mutating func closed(descriptor: Int32) -> [String] {
        let gone = routes.filter { _, route in
            guard let connection = route.connection, connection.descriptor == descriptor else { return false }
            return !connection.isCurrent
        }.keys.sorted()
        for agentID in gone { remove(agentID) }
        return gone
    }

    /// The agents whose route key `isValid` no longer accepts for them.
    func invalid(_ isValid: (String, String) -> Bool) -> [String] {
        routes.filter { !isValid($0.key, $0.value.key) }.keys.sorted()
    }
}
