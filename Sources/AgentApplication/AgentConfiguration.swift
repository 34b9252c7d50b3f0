import AgentCore
import AgentTransport
import Topology

/// Everything `buildAgent` needs besides the runtime: the resolved settings (with the catalog), the link (endpoints
/// and both keys), and how the agent reports to its supervisor and bounds its shutdown.
public struct AgentConfiguration: Sendable {
    public var settings: AgentSettings
    public var link: AgentLinkConfiguration
    /// Host ports in use, checked before an apply (tests replace it: ports bound on a shared machine are not theirs).
    public var preflight: PortPreflight
    /// The systemd hooks (READY, STATUS, WATCHDOG, STOPPING); none by default.
    public var lifecycle: DaemonLifecycle
    public var shutdown: ShutdownLimits

    public init(
        settings: AgentSettings,
        link: AgentLinkConfiguration,
        preflight: PortPreflight = PortPreflight(),
        lifecycle: DaemonLifecycle = .none,
        shutdown: ShutdownLimits = .agent
    ) {
        self.settings = settings
        self.link = link
        self.preflight = preflight
        self.lifecycle = lifecycle
        self.shutdown = shutdown
    }
}

/// How long the service group may take to stop (`ServiceGroupConfiguration`'s `maximumGracefulShutdownDuration` and
/// `maximumCancellationDuration`).
public struct ShutdownLimits: Sendable, Equatable {
    /// From SIGTERM until the group cancels what still runs: a running apply or teardown aborts at its next safe
    /// point well within this.
    public var graceful: Duration
    /// From cancellation until the process traps (a part that ignores cancellation is a bug worth a core dump).
    public var cancellation: Duration

    public init(graceful: Duration, cancellation: Duration) {
        self.graceful = graceful
        self.cancellation = cancellation
    }

    /// 75 s + 10 s: inside the unit's `TimeoutStopSec=90s` (packaging/agent/decnet-agent.service), so the agent
    /// ends by itself before systemd sends SIGKILL.
    public static let agent = ShutdownLimits(graceful: .seconds(75), cancellation: .seconds(10))
}
