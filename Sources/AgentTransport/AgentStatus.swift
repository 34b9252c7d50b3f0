import AgentProtocol
import DecnetJSON

/// What a running agent tells its supervisor (systemd's `STATUS=`, shown by `systemctl status`), and when: the
/// hooks `decnet-agent run` connects to its ``SystemdNotify`` notifier. All do nothing by default.
public struct DaemonLifecycle: Sendable {
    /// Set up: the store open, Docker observed or its error known, both sockets dialling. With the first status.
    public var ready: @Sendable (String) -> Void
    /// The status now, after every turn of the liveness loop (the receiver drops repeats).
    public var status: @Sendable (String) -> Void
    /// The liveness loop turned: the socket thread and the dispatcher both answered.
    public var alive: @Sendable () -> Void
    /// Graceful shutdown began, with a last status.
    public var stopping: @Sendable (String) -> Void
    /// How often the liveness loop turns; `nil`: no loop (nobody listens).
    public var interval: Duration?

    public init(
        ready: @escaping @Sendable (String) -> Void = { _ in },
        status: @escaping @Sendable (String) -> Void = { _ in },
        alive: @escaping @Sendable () -> Void = {},
        stopping: @escaping @Sendable (String) -> Void = { _ in },
        interval: Duration? = nil
    ) {
        self.ready = ready
        self.status = status
        self.alive = alive
        self.stopping = stopping
        self.interval = interval
    }

    public static let none = DaemonLifecycle()
}

/// The agent's one-line status: the link, what runs, the applied topology, and the last error known.
///
/// `connected to tcp://m:8771; topology 7d3f0c2a-... applied (hash 0259fb69c7e4); last error: Docker: ...`
public enum AgentStatus {
    public static func line(
        link: AgentLink.LinkState,
        endpoint: String,
        running: (id: String, type: String)?,
        state: AgentState
    ) -> String {
        var parts: [String] = []
        parts.append(link.connected ? "connected to \(endpoint)" : "dialling \(endpoint)")
        if let running {
            parts.append("\(running.type == "apply" ? "applying" : "tearing down") (request \(running.id))")
        }
        if let topology = state.topologyID {
            let hash = state.appliedVersionHash.map { String($0.prefix(12)) } ?? "?"
            parts.append("topology \(topology) applied (hash \(hash))")
        } else {
            parts.append("no topology applied")
        }
        var errors: [String] = []
        if let problem = state.stateDirectoryError { errors.append("state directory: \(problem)") }
        if case .error(let docker) = state.observed { errors.append("Docker: \(docker)") }
        if let attempt = state.attempt { errors.append("apply of \(attempt.topologyID) failed: \(attempt.error)") }
        if let error = state.lastError { errors.append(error) }
        if let error = link.lastError { errors.append("link: \(error)") }
        if !errors.isEmpty { parts.append("last error: " + errors.joined(separator: "; ")) }
        let text = parts.joined(separator: "; ")
        return text.count > 480 ? String(text.prefix(479)) + "…" : text
    }
}
