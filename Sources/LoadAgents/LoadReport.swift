import DecnetJSON

/// Turns what the agents sent and what the monitor received into the run's JSON report.
enum LoadReport {
    /// Heartbeat accounting for one phase: per agent, the heartbeats with `seq` up to `endSeqs[agent]` that were
    /// sent while the master was subscribed, against the distinct ones the monitor received.
    static func accounting(
        agents: [LoadAgent.State],
        ids: [String],
        endSeqs: [Int],
        monitor: HeartbeatMonitor.Counts
    ) -> JSONValue {
        var totals = (sent: 0, unsubscribed: 0, received: 0, duplicates: 0, outOfOrder: 0, lost: 0)
        var perAgent: [JSONValue] = []
        var withLoss: [JSONValue] = []
        var receivedRange = (min: Int.max, max: 0)
        for (index, id) in ids.enumerated() {
            let end = endSeqs[index]
            let unsubscribed = Set(agents[index].unsubscribedSeqs.filter { $0 <= end })
            let receipts = (monitor.receipts[id] ?? []).filter { $0.seq <= end }
            var seen = Set<Int>()
            var previous = 0
            var outOfOrder = 0
            for receipt in receipts {
                if receipt.seq < previous { outOfOrder += 1 }
                previous = max(previous, receipt.seq)
                seen.insert(receipt.seq)
            }
            let missing = (1...max(end, 1)).filter { $0 <= end && !seen.contains($0) && !unsubscribed.contains($0) }
            let sent = end - unsubscribed.count
            totals.sent += sent
            totals.unsubscribed += unsubscribed.count
            totals.received += seen.count
            totals.duplicates += receipts.count - seen.count
            totals.outOfOrder += outOfOrder
            totals.lost += missing.count
            receivedRange = (min(receivedRange.min, seen.count), max(receivedRange.max, seen.count))
            perAgent.append([JSONValue(id), JSONValue(sent), JSONValue(seen.count), JSONValue(missing.count)])
            if !missing.isEmpty && withLoss.count < 20 {
                withLoss.append([
                    "agent_id": JSONValue(id), "sent": JSONValue(sent), "received": JSONValue(seen.count),
                    "missing_seqs": .array(missing.prefix(20).map { JSONValue($0) }),
                ])
            }
        }
        return [
            "sent": JSONValue(totals.sent), "received": JSONValue(totals.received), "lost": JSONValue(totals.lost),
            "sent_unsubscribed": JSONValue(totals.unsubscribed), "duplicates": JSONValue(totals.duplicates),
            "out_of_order": JSONValue(totals.outOfOrder),
            "agents_with_loss": .array(withLoss),
            "received_per_agent_min": JSONValue(receivedRange.min == .max ? 0 : receivedRange.min),
            "received_per_agent_max": JSONValue(receivedRange.max),
            "per_agent_columns": ["agent_id", "sent", "received", "lost"],
            "per_agent": .array(perAgent),
        ]
    }

    /// The reconnection after a master restart, seen from the agents: for every agent its first disconnection
    /// after `afterMillis`, its next handshake, its next subscription, and its first heartbeat received after that.
    static func reconnection(
        agents: [LoadAgent.State],
        ids: [String],
        monitor: HeartbeatMonitor.Counts,
        afterMillis: Int64
    ) -> JSONValue {
        var disconnectedAt: [Int64] = []
        var backAt: [Int64] = []
        var delays: [Int64] = []
        var resubscribed = 0
        var resumed = 0
        for (index, id) in ids.enumerated() {
            let state = agents[index]
            guard let cut = state.disconnects.first(where: { $0 > afterMillis }) else { continue }
            disconnectedAt.append(cut)
            guard let back = state.handshakes.first(where: { $0 > cut }) else { continue }
            backAt.append(back)
            delays.append(back - cut)
            if let subscribed = state.subscriptions.first(where: { $0 > cut }) {
                resubscribed += 1
                if (monitor.receipts[id] ?? []).contains(where: { $0.at > subscribed }) { resumed += 1 }
            }
        }
        guard let outage = disconnectedAt.min() else {
            return ["disconnected_agents": 0]
        }
        let sinceOutage = backAt.map { $0 - outage }.sorted()
        return [
            "disconnected_agents": JSONValue(disconnectedAt.count), "reconnected_agents": JSONValue(backAt.count),
            "resubscribed_agents": JSONValue(resubscribed), "heartbeats_resumed_agents": JSONValue(resumed),
            "outage_seen_at_ms": .integer(JSONInteger(outage)),
            "all_back_after_ms": backAt.count == disconnectedAt.count
                ? .integer(JSONInteger(sinceOutage.last ?? 0)) : .null,
            "back_after_ms": percentiles(sinceOutage),
            "own_reconnect_delay_ms": percentiles(delays.sorted()),
            "monitor_reconnected": .bool(monitor.handshakes.contains { $0 > outage }),
        ]
    }

    /// p50, p90, p99 and max of sorted values.
    static func percentiles(_ sorted: [Int64]) -> JSONValue {
        guard !sorted.isEmpty else { return .null }
        func at(_ fraction: Double) -> JSONValue {
            .integer(JSONInteger(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]))
        }
        return ["p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": .integer(JSONInteger(sorted.last!))]
    }

    /// Relay latency percentiles in milliseconds (agent `sent_at` to monitor receipt, wall clock).
    static func latency(_ values: [Int32]) -> JSONValue {
        percentiles(values.map { Int64($0) }.sorted())
    }
}
