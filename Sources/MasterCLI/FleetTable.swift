import CLISupport
import DecnetJSON
import Foundation

/// Renders a `fleet` snapshot as a text table for people (`agents`, `watch`).
enum FleetTable {
    static let columns = ["AGENT", "CONN", "VERSION", "HB AGE", "SEQ", "GAPS", "APPLIED", "DRIFT", "RUNNING"]

    static func render(_ fleet: JSONObject) -> String {
        let agents = fleet["agents"]?.arrayValue ?? []
        var rows = [columns]
        for agent in agents {
            rows.append(row(agent))
        }
        var lines = TextTable.lines(rows)
        if agents.isEmpty { lines.append("(no agent has said hello yet)") }
        lines.append(countersLine(fleet["counters"]))
        return lines.joined(separator: "\n") + "\n"
    }

    static func row(_ agent: JSONValue) -> [String] {
        let heartbeat = agent["heartbeat"]
        let age = heartbeat?["age_ms"]?.intValue.map { formatAge($0) } ?? "-"
        let seq = heartbeat?["seq"]?.intValue.map(String.init) ?? "-"
        let gaps = heartbeat?["gaps"]?.intValue.map(String.init) ?? "-"
        let hash = agent["applied_version_hash"]?.stringValue.map { String($0.prefix(12)) } ?? "-"
        let running = agent["running"]?["type"]?.stringValue.map {
            "\($0) \(agent["running"]?["id"]?.stringValue ?? "")"
        }
        return [
            agent["agent_id"]?.stringValue ?? "?", connection(agent),
            agent["agent_version"]?.stringValue ?? "-", age, seq, gaps, hash, drift(agent), running ?? "-",
        ]
    }

    /// `yes`, `silent` (nothing heard for too long) or `no`.
    static func connection(_ agent: JSONValue) -> String {
        if agent["connected"]?.boolValue == true { return "yes" }
        return agent["disconnect_reason"]?.stringValue == "silent" ? "silent" : "no"
    }

    /// `ok`, the number of drifting items, or `docker: <error>` when the agent cannot ask Docker.
    static func drift(_ agent: JSONValue) -> String {
        if let error = agent["observed_error"]?.stringValue { return "docker: \(error.prefix(40))" }
        guard let drift = agent["drift"]?.objectValue else { return "-" }
        let total = drift.members.reduce(0) { $0 + ($1.value.intValue ?? 0) }
        return total == 0 ? "ok" : "\(total) items"
    }

    static func formatAge(_ millis: Int) -> String {
        millis < 10_000 ? String(format: "%.1fs", Double(millis) / 1000) : "\(millis / 1000)s"
    }

    static func countersLine(_ counters: JSONValue?) -> String {
        guard let counters else { return "" }
        let refused = counters["refused_handshakes"]?.intValue ?? 0
        let dropped = counters["dropped_total"]?.intValue ?? 0
        let gaps = counters["heartbeat_gaps"]?.intValue ?? 0
        let timeouts = counters["requests"]?["timeouts"]?.intValue ?? 0
        return "refused handshakes: \(refused)  dropped messages: \(dropped)  heartbeat gaps: \(gaps)  "
            + "request timeouts: \(timeouts)"
    }
}
