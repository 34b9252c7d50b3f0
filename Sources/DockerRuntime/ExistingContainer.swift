import DecnetJSON
import DockerEngine

/// A container found on the host before a change, with what the runtime compares against the plan.
struct ExistingContainer: Sendable, Equatable {
    var id: String
    var name: String
    /// Docker's state word: `created`, `running`, `paused`, `restarting`, `exited`, `dead`.
    var state: String
    var labels: [String: String]
    /// `HostConfig.NetworkMode` as Docker stored it: a bridge name, or `container:<full id>` for a container that
    /// joined another one's namespace (Docker resolves the name given at create to the id).
    var networkMode: String

    init(id: String, name: String, state: String, labels: [String: String], networkMode: String) {
        self.id = id
        self.name = name
        self.state = state
        self.labels = labels
        self.networkMode = networkMode
    }

    init(_ summary: DockerContainerSummary) {
        self.init(
            id: summary.id,
            name: summary.name,
            state: summary.state,
            labels: summary.labels,
            networkMode: summary.raw["HostConfig"]?["NetworkMode"]?.stringValue ?? ""
        )
    }

    var configHash: String? { labels[RuntimeLabels.configHash] }

    /// Running, or in a state where starting it would be wrong (restarting, paused): left as it is.
    var isAlive: Bool { state == "running" || state == "restarting" || state == "paused" }

    /// Whether it lives in another container's network namespace (a service container).
    var joinsAnotherNamespace: Bool { networkMode.hasPrefix("container:") }

    /// Service containers of a decky, and anything else that joined another namespace, before the rest: the order
    /// in which containers are stopped and removed.
    static func dependantsFirst(_ containers: [ExistingContainer]) -> [[ExistingContainer]] {
        let dependants = containers.filter {
            $0.joinsAnotherNamespace || ($0.labels[RuntimeLabels.role].map { $0 != "base" } ?? false)
        }
        let ids = Set(dependants.map(\.id))
        return [dependants, containers.filter { !ids.contains($0.id) }].filter { !$0.isEmpty }
    }
}

/// What reconciling one planned container does, compose's `up --always-recreate-deps` decisions.
enum ContainerAction: String, Sendable, Equatable {
    /// Exists with the planned configuration and runs: untouched.
    case keep
    /// Exists with the planned configuration but is stopped: started.
    case start
    /// A service container that runs while its base was just started again: stopped and started, so it joins the
    /// base's new network namespace.
    case restart
    /// Does not exist: created and started.
    case create
    /// Exists with another configuration, or in a namespace its base no longer owns: stopped, removed, created.
    case recreate

    /// The action for a base container; `forced` when a bridge it was attached to had to be recreated.
    static func forBase(existing: ExistingContainer?, configHash: String, forced: Bool) -> ContainerAction {
        guard let existing else { return .create }
        if forced || existing.configHash != configHash { return .recreate }
        return existing.isAlive ? .keep : .start
    }

    /// The action for a service container once its base is settled: `baseID` is the base's container id now, and
    /// `baseStarted` says whether it was (re)started by this reconciliation (created, recreated or started).
    static func forService(
        existing: ExistingContainer?,
        configHash: String,
        forced: Bool,
        baseID: String,
        baseStarted: Bool
    ) -> ContainerAction {
        guard let existing else { return .create }
        if forced || existing.configHash != configHash { return .recreate }
        // Docker stores the namespace owner by id: another id means the base was replaced under this container.
        if existing.networkMode != "container:" + baseID { return .recreate }
        if baseStarted { return existing.isAlive ? .restart : .start }
        return existing.isAlive ? .keep : .start
    }
}
