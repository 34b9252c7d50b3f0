import DecnetJSON
import Foundation
import Master

/// The phases of one `load-agents` run, after the sockets are open:
///
/// ```
///   connecting ──all connected + subscribed──▶ steady (heartbeats, /proc samples) ──duration──▶ grace
///        │                                                                                        │
///     timeout ──▶ report, exit 1                                    report written ◀──────────────┘
///                                                                         │
///                                  observe (heartbeats go on; master restarts are watched) ──▶ final report
/// ```
struct LoadRun: Sendable {
    let options: LoadOptions
    let fleet: SimulatedFleet
    let monitor: HeartbeatMonitor
    let clock: FleetClock
    let setup: JSONObject
    let signals: SignalWatch

    /// Runs every phase; false when the fleet never got ready.
    func execute() async -> Bool {
        var report = JSONObject()
        report["agents"] = JSONValue(options.agents)
        report["shards"] = JSONValue(fleet.shards.count)
        report["heartbeat_interval_ms"] = JSONValue(intervalMillis)
        report["duration_s"] = .float(options.duration)
        var setup = self.setup
        let ready = await waitUntilReady()
        setup["connect_all_ms"] = .integer(JSONInteger(clock.millis()))
        setup["ready_agents"] = JSONValue(ready)
        setup["handshake_failures"] = JSONValue(fleet.agents.reduce(0) { $0 + $1.snapshot.handshakeFailures })
        report["setup"] = .object(setup)
        guard ready == fleet.agents.count, monitor.isConnected else {
            LoadOptions.log("only \(ready) of \(fleet.agents.count) agents got ready (monitor: \(monitor.isConnected))")
            report["complete"] = false
            write(report)
            return false
        }
        LoadOptions.log("all \(ready) agents connected and subscribed after \(clock.millis()) ms")
        guard await startTogether() else {
            LoadOptions.log("no go file \(options.goFile ?? "") in time")
            report["complete"] = false
            write(report)
            return false
        }
        LoadOptions.log("heartbeating")
        _ = await signals.sleep(seconds: 1)

        let lag = LagMeter()
        return await withTaskGroup(of: Void.self) { group -> Bool in
            group.addTask { await fleet.publishHeartbeats(intervalMillis: intervalMillis, clock: clock, lag: lag) }
            let steady = await steadyPhase(lag: lag)
            report["steady"] = steady.value
            report["complete"] = false
            write(report)
            LoadOptions.log("steady phase reported: \(Self.line(steady.value))")
            if options.observe > 0 && !signals.received {
                LoadOptions.log("observing for up to \(options.observe) s (SIGTERM ends it)")
                _ = await signals.sleep(seconds: options.observe)
                report["restart"] = LoadReport.reconnection(
                    agents: fleet.agents.map(\.snapshot),
                    ids: fleet.agents.map(\.id),
                    monitor: monitor.snapshot,
                    afterMillis: steady.endMillis
                )
                LoadOptions.log("restart: \(report["restart"]!.jsonText)")
            }
            report["complete"] = true
            write(report)
            group.cancelAll()
            return true
        }
    }

    var intervalMillis: Int { Int(options.heartbeatInterval * 1000) }

    /// Announces readiness (`--ready-file`) and waits for the go file, when given, so that several processes
    /// share one steady phase. False when the go file did not come within the connect timeout.
    private func startTogether() async -> Bool {
        if let readyFile = options.readyFile {
            FileManager.default.createFile(atPath: readyFile, contents: Data("\(clock.millis())\n".utf8))
        }
        guard let goFile = options.goFile else { return true }
        let deadline = clock.millis() + Int64(options.connectTimeout * 1000)
        while !FileManager.default.fileExists(atPath: goFile) {
            guard clock.millis() < deadline, !signals.received else { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return true
    }

    /// Polls until every agent has a handshake and a subscription and the monitor is connected.
    private func waitUntilReady() async -> Int {
        let deadline = clock.millis() + Int64(options.connectTimeout * 1000)
        var ready = fleet.readyCount
        while (ready < fleet.agents.count || !monitor.isConnected) && clock.millis() < deadline && !signals.received {
            try? await Task.sleep(for: .milliseconds(100))
            ready = fleet.readyCount
        }
        return ready
    }

    /// Heartbeats for `duration` with /proc samples every second, then the accounting after `grace`.
    private func steadyPhase(lag: LagMeter) async -> (value: JSONValue, endMillis: Int64) {
        let masterSampler = options.masterPID.map { ProcessSampler(pid: $0) }
        let selfSampler = ProcessSampler(pid: getpid())
        var masterSamples: [ProcessSampler.Sample] = []
        var selfSamples: [ProcessSampler.Sample] = []
        let countersBefore = await masterCounters()
        let start = clock.millis()
        let end = start + Int64(options.duration * 1000)
        while clock.millis() < end && !signals.received {
            let now = clock.millis()
            if let sample = masterSampler?.sample(at: now) { masterSamples.append(sample) }
            if let sample = selfSampler.sample(at: now) { selfSamples.append(sample) }
            _ = await signals.sleep(seconds: min(1, Double(end - clock.millis()) / 1000))
        }
        let stop = clock.millis()
        if let sample = masterSampler?.sample(at: stop) { masterSamples.append(sample) }
        if let sample = selfSampler.sample(at: stop) { selfSamples.append(sample) }
        let endSeqs = fleet.agents.map(\.snapshot.seq)
        let schedule = lag.reading
        _ = await signals.sleep(seconds: options.grace)
        let countersAfter = await masterCounters()

        var steady = LoadReport.accounting(
            agents: fleet.agents.map(\.snapshot),
            ids: fleet.agents.map(\.id),
            endSeqs: endSeqs,
            monitor: monitor.snapshot
        ).objectValue!
        steady["seconds"] = .float(Double(stop - start) / 1000)
        steady["heartbeats_per_second"] = .float(
            ProcessSampler.rounded(Double(steady["sent"]?.intValue ?? 0) / max(0.001, Double(stop - start) / 1000))
        )
        steady["relay_latency_ms"] = LoadReport.latency(monitor.snapshot.latencies)
        steady["schedule_lag_ms"] = ["max": .integer(JSONInteger(schedule.max)), "mean": .float(schedule.mean)]
        steady["master_process"] = masterSampler.map { $0.summary(masterSamples) } ?? .null
        steady["load_agents_process"] = selfSampler.summary(selfSamples)
        steady["master_counters"] = Self.delta(countersBefore, countersAfter)
        steady["monitor_malformed"] = JSONValue(monitor.snapshot.malformed)
        return (.object(steady), stop)
    }

    /// The master's counters through its control channel, or `nil` when it does not answer.
    private func masterCounters() async -> JSONValue? {
        guard let client = try? await ControlClient.connect(directory: options.masterDir) else { return nil }
        let fleet = try? await client.fleet(timeout: .seconds(10))
        await client.close()
        return fleet?["counters"]
    }

    /// What the master counted during the phase: heartbeats received and relayed, gaps it saw, drops.
    static func delta(_ before: JSONValue?, _ after: JSONValue?) -> JSONValue {
        guard let before, let after else { return .null }
        func change(_ path: [String]) -> JSONValue {
            var a: JSONValue? = before
            var b: JSONValue? = after
            for key in path {
                a = a?[key]
                b = b?[key]
            }
            guard let x = a?.intValue, let y = b?.intValue else { return .null }
            return JSONValue(y - x)
        }
        return [
            "received_published": change(["received", "published"]),
            "relayed_heartbeats": change(["relayed", "heartbeats"]),
            "heartbeat_gaps": change(["heartbeat_gaps"]),
            "dropped_total": change(["dropped_total"]),
        ]
    }

    /// The headline numbers of a steady report in one line.
    static func line(_ steady: JSONValue) -> String {
        let keys = ["sent", "received", "lost", "sent_unsubscribed", "duplicates"]
        return keys.map { "\($0)=\(steady[$0]?.intValue ?? -1)" }.joined(separator: " ")
    }

    /// Writes the report atomically to `--report`, or prints it.
    private func write(_ report: JSONObject) {
        let text = PythonJSONEncoder(sortKeys: false, asciiOnly: false, indent: 1).string(.object(report)) + "\n"
        guard let path = options.report else {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            LoadOptions.log("cannot write \(path): \(error)")
        }
    }
}
