import AgentProtocol
import DecnetJSON
import Logging
import ZeroMQ

/// The master's defences against peers (docs/security.md): the connection cap, connections that never speak,
/// revocation, byte budgets, and cutting connections.
extension MasterCore {
    /// A connection was accepted on any of the three sockets; over the cap it is cut at once.
    func connectionAccepted(descriptor: Int32, role: MasterCounters.SocketRole, now: Int64) {
        let entry = connections.accepted(descriptor: descriptor, role: role, now: now)
        guard connections.count > limits.maxConnections else { return }
        connections.closed(descriptor: descriptor)
        if let connection = entry.connection { cut(connection, reason: .overCapacity) }
        log(
            .warning,
            "connection refused: the master is at its connection cap",
            reason: "over_capacity",
            metadata: ["open": "\(connections.count)", "cap": "\(limits.maxConnections)", "socket": "\(role.rawValue)"]
        )
    }

    /// A connection closed: an agent whose route ran over it is not connected any more.
    func connectionClosed(descriptor: Int32, role: MasterCounters.SocketRole) {
        connections.closed(descriptor: descriptor)
        guard role == .command else { return }
        for agentID in routes.closed(descriptor: descriptor) {
            fleet.closed(agentID: agentID)
            fleetChanged = true
            logger.info("agent connection closed", metadata: ["agent": "\(agentID)"])
        }
    }

    /// Cuts `connection` now (its descriptor is checked to still carry it) and counts why.
    func cut(_ connection: PeerConnection, reason: CutReason) {
        guard connection.cut() else { return }
        counters.cut(reason)
        metrics.cut(reason)
    }

    /// Every connection known to speak with `key`: the route's, and those the table saw messages from.
    func cutConnections(of key: String, route: AgentRoutes.Route?, reason: CutReason, graceMillis: Int64 = 0) {
        var targets = Set(connections.connections(of: key))
        if let connection = route?.connection { targets.insert(connection) }
        let at = clock() + graceMillis
        for connection in targets {
            if graceMillis > 0 {
                pendingCuts.append((at, connection, reason))
            } else {
                cut(connection, reason: reason)
            }
        }
    }

    /// Revokes routes whose key left the allow-list (or no longer maps to that agent), when the list changed.
    func enforceAllowList() async {
        let issues = allowListIssues()
        for issue in issues where !loggedAllowListIssues.contains(issue) {
            log(
                .warning,
                "allow-list entry refused",
                reason: "allow_list_issue",
                metadata: ["issue": "\(LogText.escaped(issue))"]
            )
        }
        loggedAllowListIssues = Set(issues)
        let generation = allowListGeneration()
        guard generation != lastAllowListGeneration else { return }
        lastAllowListGeneration = generation
        let identify = gate.agentIdentity
        for agentID in routes.invalid({ agentID, key in identify(key) == agentID }) {
            await revoke(agentID, reason: "its key was removed from the master's allow-list")
        }
    }

    /// Tells an agent it was revoked, stops every send to it, fails its requests and cuts its connections.
    func revoke(_ agentID: String, reason: String) async {
        guard let route = routes.remove(agentID) else { return }
        counters.revocations += 1
        metrics.revoked()
        fleet.revoked(agentID: agentID)
        fleetChanged = true
        logger.warning(
            "agent key revoked; its connections are cut",
            metadata: ["agent": "\(agentID)", "reason": "\(reason)"]
        )
        let notice = Messages.revoked(agentID: agentID, reason: reason)
        _ = await outlets.toAgent(route.routingId, Messages.frame(notice))
        cutConnections(of: route.key, route: route, reason: .revoked, graceMillis: limits.revokeGraceMillis)
        for key in tracker.drop(agentID: agentID) {
            let error = MasterError(.revoked, operation: "request \(key)", message: "the agent's key was revoked")
            await finish(
                key,
                with: .failed(error),
                controlMessage: ControlMessage.error(id: key.requestID, code: "revoked", message: error.message)
            )
        }
    }

    /// Counts and logs the monitor connections the relay's socket thread cut for their subscriptions.
    func noteSubscriptionRefusals() {
        guard let statistics = subscriptionGate?.statistics, statistics.refused > subscriptionRefusalsSeen else {
            return
        }
        let new = statistics.refused - subscriptionRefusalsSeen
        subscriptionRefusalsSeen = statistics.refused
        counters.cuts[.tooManySubscriptions, default: 0] += new
        metrics.cuts[.tooManySubscriptions]?.increment(by: new)
        log(
            .warning,
            "monitor connection cut: subscription refused",
            reason: "too_many_subscriptions",
            metadata: [
                "cut": "\(new)", "limit": "\(limits.subscriptionsPerMonitor)",
                "keys": "\(statistics.refusedKeys.keys.sorted().map { LogText.escaped($0) }.joined(separator: ","))",
            ]
        )
    }

    /// Cuts the connections of keys that went over their byte budget.
    func enforceBudgets() {
        for budget in budgets {
            for refusal in budget.takeRefusals() {
                counters.drop(.overBudget)
                metrics.dropped(.overBudget)
                log(
                    .warning,
                    "message dropped: over budget",
                    reason: "over_budget",
                    metadata: ["key": "\(refusal.userId ?? "-")", "bytes": "\(refusal.bytes)"]
                )
                guard refusal.peerOverLimit, let connection = connections.connection(on: refusal.sourceDescriptor)
                else { continue }
                connections.closed(descriptor: connection.descriptor)
                cut(connection, reason: .overBudget)
            }
        }
    }

    /// Cuts connections that never spoke after their handshake, and those whose notice had time to leave.
    func enforceConnections() {
        let now = clock()
        for connection in connections.mute(olderThan: limits.firstMessageMillis, now: now) {
            cut(connection, reason: .mute)
            log(
                .notice,
                "connection cut: authenticated but silent (a routing id already in use, or not an agent)",
                reason: "mute",
                metadata: ["connection": "\(connection)"]
            )
        }
        let due = pendingCuts.filter { $0.at <= now }
        pendingCuts.removeAll { $0.at <= now }
        for item in due { cut(item.connection, reason: item.reason) }
    }
}
