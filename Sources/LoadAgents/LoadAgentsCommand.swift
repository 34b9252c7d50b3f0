import ArgumentParser
import DecnetJSON
import Foundation
import ZeroMQ

/// `load-agents`: many simulated agents in one process against a real `decnet-master serve`, with a monitor that
/// accounts for every heartbeat (scripts/load-test.sh drives it).
@main
struct LoadAgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-agents",
        abstract: "Simulate N agents (CURVE DEALER + heartbeats) against a master; account for every heartbeat.",
        discussion: """
            Generates N agent keys and a monitor key in memory and writes their public certificates into the \
            master's agents/ and monitors/ allow-lists. Every agent dials the master like the real one (hello after \
            each handshake, jittered reconnect 0.2-1 s backing off to 60 s, ZMTP heartbeats 10/30 s without TTL) and, once all \
            are connected and subscribed, publishes a heartbeat every --heartbeat-interval seconds for --duration \
            seconds. A monitor on the master's XPUB counts them. The steady-phase report (sent vs received per \
            agent, gaps, relay latency, master CPU and memory from /proc) is written to --report; the run then keeps \
            heartbeating for up to --observe seconds (or until SIGTERM/SIGINT) to watch a master restart, and \
            rewrites the report with the reconnection it saw. Talks only to the endpoints it is given.
            """
    )

    @Option(help: "Number of simulated agents.")
    var agents = 1000
    @Option(
        name: .customLong("master-dir"),
        help: "The master's directory: master.key is read, agents/ and monitors/ written."
    )
    var masterDir: String
    @Option(help: "The master's command endpoint; heartbeat and monitor endpoints default to its port + 1 and + 2.")
    var endpoint = "tcp://127.0.0.1:8771"
    @Option(name: .customLong("heartbeat-endpoint"), help: "The master's heartbeat SUB endpoint.")
    var heartbeatEndpoint: String?
    @Option(name: .customLong("monitor-endpoint"), help: "The master's monitor XPUB endpoint.")
    var monitorEndpoint: String?
    @Option(name: .customLong("heartbeat-interval"), help: "Seconds between an agent's heartbeats.")
    var heartbeatInterval = 1.0
    @Option(help: "Seconds of steady heartbeating to account for.")
    var duration = 180.0
    @Option(
        name: .customLong("agents-per-thread"),
        help: ArgumentHelp(
            "Agents per socket thread and ZeroMQ context (1 to 170; fewer is cheaper per message: zmq_poll walks "
                + "every socket of its thread on each wake-up)."
        )
    )
    var agentsPerThread = 32
    @Option(name: .customLong("id-prefix"), help: "Agent ids are PREFIX00001, PREFIX00002, ...")
    var idPrefix = "load-"
    @Option(help: "Write the JSON report here (atomically); standard output when omitted.")
    var report: String?
    @Option(name: .customLong("master-pid"), help: "The master's process id, for CPU and memory from /proc.")
    var masterPID: Int32?
    @Option(name: .customLong("enrol-wait"), help: "Seconds to let the master re-read its allow-lists.")
    var enrolWait = 3.0
    @Option(name: .customLong("connect-timeout"), help: "Seconds for every agent to connect and be subscribed.")
    var connectTimeout = 120.0
    @Option(help: "Seconds to keep heartbeating after the steady phase, watching for a master restart.")
    var observe = 0.0
    @Option(help: "Seconds to wait for heartbeats still in flight when the steady phase ends.")
    var grace = 3.0
    @Option(
        name: .customLong("ready-file"),
        help: "Create this file once every agent is connected and subscribed."
    )
    var readyFile: String?
    @Option(
        name: .customLong("go-file"),
        help: "Start heartbeating only once this file exists (several processes, one steady phase)."
    )
    var goFile: String?

    func validate() throws {
        guard agents >= 1 else { throw ValidationError("--agents must be at least 1") }
        guard (1...SimulatedFleet.maxAgentsPerShard).contains(agentsPerThread) else {
            throw ValidationError("--agents-per-thread must be 1 to \(SimulatedFleet.maxAgentsPerShard)")
        }
        guard heartbeatInterval >= 0.05 else { throw ValidationError("--heartbeat-interval must be at least 0.05") }
        guard duration > 0, observe >= 0, grace >= 0, connectTimeout > 0, enrolWait >= 0 else {
            throw ValidationError("durations must be positive")
        }
        guard heartbeatEndpoint != nil && monitorEndpoint != nil || LinkSettings.defaultSiblings(of: endpoint) != nil
        else { throw ValidationError("--endpoint must be tcp://HOST:PORT (or give the other two endpoints)") }
    }

    func run() async throws {
        let limit = FileLimit.raiseToHardLimit()
        let master = try ZMQCertificate.load(path: masterDir + "/master.key")
        let siblings = LinkSettings.defaultSiblings(of: endpoint)
        let link = LinkSettings(
            commandEndpoint: endpoint,
            heartbeatEndpoint: heartbeatEndpoint ?? siblings!.heartbeat,
            monitorEndpoint: monitorEndpoint ?? siblings!.monitor,
            masterKey: master.publicKey
        )
        let clock = FleetClock()
        var setup = JSONObject()
        setup["open_files_limit"] = JSONValue(limit)
        let keys = try FleetKeys.generate(count: agents, prefix: idPrefix)
        setup["keys_ms"] = .integer(JSONInteger(clock.millis()))
        try keys.enrol(masterDirectory: masterDir)
        setup["enrol_ms"] = .integer(JSONInteger(clock.millis()))
        LoadOptions.log("\(agents) agent keys enrolled in \(masterDir)/agents; \(enrolWait) s for the allow-list")
        try await Task.sleep(for: .milliseconds(Int64(enrolWait * 1000)))

        let monitor = try await HeartbeatMonitor.connect(
            endpoint: link.monitorEndpoint,
            keys: keys.monitor,
            masterKey: master.publicKey,
            topicPrefix: "hb." + idPrefix
        )
        let fleet = try await SimulatedFleet.open(keys: keys, link: link, agentsPerShard: agentsPerThread)
        let run = LoadRun(
            options: LoadOptions(
                agents: agents,
                masterDir: masterDir,
                heartbeatInterval: heartbeatInterval,
                duration: duration,
                report: report,
                masterPID: masterPID,
                connectTimeout: connectTimeout,
                observe: observe,
                grace: grace,
                readyFile: readyFile,
                goFile: goFile
            ),
            fleet: fleet,
            monitor: monitor,
            clock: clock,
            setup: setup,
            signals: SignalWatch()
        )
        let succeeded = await withTaskGroup(of: Void.self) { group -> Bool in
            group.addTask { await fleet.run(clock: clock) }
            group.addTask { await monitor.run(clock: clock) }
            let succeeded = await run.execute()
            await fleet.close()
            await monitor.close()
            return succeeded
        }
        if !succeeded { throw ExitCode(1) }
    }
}
