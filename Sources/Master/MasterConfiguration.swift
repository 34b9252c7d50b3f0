import AgentProtocol
import Foundation
import ZeroMQ

/// Everything a ``MasterServer`` needs: where its keys live, where it listens, its limits and timers.
///
/// Defaults follow the wire protocol (ports 8771-8773, 16 MiB envelopes, ZMTP heartbeats 10/30/60 s). Port 0 binds
/// an ephemeral port (tests); read the result from ``MasterServer/endpoints()``.
public struct MasterConfiguration: Sendable {
    /// Holds `master.key_secret`, `agents/`, `monitors/`, and at run time `control.ipc` and `master.lock`.
    public var directory: String
    /// The address every TCP socket binds to.
    public var bindHost: String = "0.0.0.0"
    public var commandPort: Int = WireProtocol.defaultCommandPort
    public var heartbeatPort: Int = WireProtocol.defaultHeartbeatPort
    public var monitorPort: Int = WireProtocol.defaultMonitorPort
    /// The largest envelope accepted, in bytes; `ZMQ_MAXMSGSIZE` is this plus the CURVE overhead.
    public var maxMessageSize: Int = WireProtocol.defaultMaxEnvelopeBytes
    /// `ZMQ_LINGER` of every socket, in milliseconds (0 to 2000): bounds how long shutdown waits for queued sends.
    public var lingerMilliseconds: Int32 = 1000
    /// `ZMQ_HEARTBEAT_IVL`, `ZMQ_HEARTBEAT_TIMEOUT`, `ZMQ_HEARTBEAT_TTL` in milliseconds, on the monitors' XPUB
    /// only. The agents' command and heartbeat sockets send no ZMTP PINGs: libzmq cancels a timer by walking every
    /// timer of its I/O thread, so a PING timer on each of thousands of agent connections made every message cost
    /// time in proportion to the fleet (docs/scaling.md#timers). The agents PING the master; a dead agent's
    /// connection is ended by TCP keepalive.
    public var zmtpHeartbeatInterval: Int32 = 10_000
    public var zmtpHeartbeatTimeout: Int32 = 30_000
    public var zmtpHeartbeatTTL: Int32 = 60_000
    /// `ZMQ_TCP_KEEPALIVE_IDLE` in seconds (keeps NAT mappings open), then `ZMQ_TCP_KEEPALIVE_INTVL` seconds between
    /// probes and `ZMQ_TCP_KEEPALIVE_CNT` unanswered probes before the kernel ends a connection whose peer is gone:
    /// about 90 s after an agent's host vanished.
    public var tcpKeepaliveIdle: Int32 = 60
    public var tcpKeepaliveInterval: Int32 = 10
    public var tcpKeepaliveCount: Int32 = 3
    /// A request that saw nothing from its agent for this long is sent again with the same id.
    public var retryInterval: Duration = .seconds(10)
    /// When an agent that sends nothing counts as gone (``SilencePolicy``).
    public var silence = SilencePolicy()
    /// How often timers (retries, deadlines, watch pushes, silent agents) are looked at.
    public var tickInterval: Duration = .milliseconds(200)
    /// What the timer loop sleeps `tickInterval` on. A test that injects a manual clock here lets ``clockMillis``
    /// read the same clock, so timers fire exactly when it advances.
    public var tickClock: any Clock<Duration> = ContinuousClock()
    /// How often the allow-list folders are re-read even when they look unchanged.
    public var allowListRescan: Duration = .seconds(2)
    /// Where `control.ipc` and `master.lock` go (`nil`: ``directory``). A packaged master keeps its keys read-only
    /// in `/etc/decnet/master` and these in `/var/lib/decnet-master`.
    public var runDirectory: String?
    /// Called after every tick with the master's summary, from the loop that runs the timers: a master whose core
    /// or timer loop hangs stops calling it (the systemd watchdog is kicked from here).
    public var tickObserver: (@Sendable (MasterHealth) -> Void)?
    /// Called once when the master begins to stop (systemd's `STOPPING=1` is sent from here).
    public var onStopping: (@Sendable () -> Void)?
    /// Open the operator control channel at `ipc://RUN_DIRECTORY/control.ipc`.
    public var controlChannel: Bool = true
    /// Starts the ZAP handler. Replaceable so tests can make it fail; the master checks afterwards that the handler
    /// really runs and refuses to start otherwise.
    public var startZAPHandler: @Sendable (ZAPHandler) async throws(ZMQError) -> Void = { try await $0.start() }
    /// Bounds on what peers can make the master hold.
    public var limits = MasterLimits()
    /// Keep desired state and requests in `RUN_DIR/master.db` and reconcile agents towards it
    /// (docs/control-channel.md#desired-state). Off only in tests that want a master without a store.
    public var keepsDesiredState = true
    /// The reconcile loop's drift threshold, back-off, cap and push deadline (docs/control-channel.md#reconcile).
    public var reconcile = ReconcileSettings()
    /// Monotonic milliseconds for every timer and deadline (injected for tests).
    public var clockMillis: @Sendable () -> Int64 = MasterConfiguration.monotonicMillis
    /// Unix milliseconds, only for instants shown in messages.
    public var wallClockMillis: @Sendable () -> Int64 = MasterConfiguration.systemMillis
    /// The instruments the master feeds (docs/metrics.md); by default they report nowhere.
    public var metrics: MasterMetrics = .disabled

    public init(directory: String) {
        self.directory = directory
    }

    /// `tcp://HOST:PORT`, with port 0 as `*` (any free port).
    func endpoint(port: Int) -> String {
        let host = bindHost.contains(":") ? "[\(bindHost)]" : bindHost
        return "tcp://\(host):\(port == 0 ? "*" : String(port))"
    }

    /// `ZMQ_MAXMSGSIZE` for the configured envelope limit: under CURVE the limit applies to the encrypted frame.
    var transportMaxMessageSize: Int64 {
        Int64(maxMessageSize) + Int64(ZMQSocket.curveMessageOverhead)
    }

    /// Milliseconds on the monotonic clock (unaffected by changes of the wall clock).
    public static func monotonicMillis() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// The current Unix time in milliseconds.
    public static func systemMillis() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

/// When the master stops taking a quiet agent as connected. Agents heartbeat at the interval they announce
/// (`interval_ms`), so an agent from which nothing arrived for `intervals` of them plus `slackMillis` is cut off,
/// frozen or gone, long before the ZMTP heartbeat timeout ends its connection or a send fails. Before its first
/// heartbeat the limit is `beforeFirstHeartbeatMillis`. The agent is shown with `connected: false` and
/// `disconnect_reason: "silent"`, requests wait for it, and anything it sends connects it again.
public struct SilencePolicy: Sendable, Hashable {
    /// Missed heartbeat intervals before an agent is silent; 0 turns the check off.
    public var intervals: Int
    public var slackMillis: Int64
    public var beforeFirstHeartbeatMillis: Int64

    public init(intervals: Int = 3, slackMillis: Int64 = 1000, beforeFirstHeartbeatMillis: Int64 = 30_000) {
        self.intervals = intervals
        self.slackMillis = slackMillis
        self.beforeFirstHeartbeatMillis = beforeFirstHeartbeatMillis
    }

    /// The silence allowed to `record`, in milliseconds, or `nil` when the check is off.
    public func limit(for record: AgentRecord) -> Int64? {
        guard intervals > 0 else { return nil }
        guard let interval = record.heartbeat?.intervalMillis, interval > 0 else { return beforeFirstHeartbeatMillis }
        return Int64(intervals).multipliedSaturating(by: Int64(WireLimits.clampInterval(interval)))
            .addingSaturating(slackMillis)
    }
}

/// The endpoints a running master bound, with ephemeral ports resolved.
public struct MasterEndpoints: Sendable, Hashable {
    public var command: String
    public var heartbeat: String
    public var monitor: String
    /// `ipc://DIRECTORY/control.ipc`, or `nil` when the control channel is off.
    public var control: String?

    public init(command: String, heartbeat: String, monitor: String, control: String?) {
        self.command = command
        self.heartbeat = heartbeat
        self.monitor = monitor
        self.control = control
    }
}
