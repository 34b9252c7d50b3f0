import Foundation
import Testing

extension FaultTests {
    /// The back-off after a master crash (docs/reliability.md#master-restart): while the master stays down, the
    /// agent's connection attempts (its `connect(2)` calls to the command port, seen with `strace` from outside) come
    /// further and further apart up to the ceiling.
    /// The production timers (0.2-1 s doubling to 60 s) would need minutes to reach the ceiling, so this agent runs
    /// with DECNET_RECONNECT_IVL_MS=500 and DECNET_RECONNECT_IVL_MAX_MS=4000: the same libzmq mechanism, scaled.
    @Suite("Reconnect back-off")
    struct ReconnectBackoff {
        static let strace = findExecutable("strace")

        /// Whether `strace -p` may attach here (it needs ptrace), or why not.
        static let straceUnavailable: String? = {
            guard let strace else { return "strace is not installed" }
            let sleeper = Process()
            sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
            sleeper.arguments = ["5"]
            guard (try? sleeper.run()) != nil else { return "cannot start sleep" }
            defer { sleeper.terminate() }
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: strace)
            probe.arguments = ["-e", "trace=none", "-p", "\(sleeper.processIdentifier)", "-o", "/dev/null"]
            probe.standardError = FileHandle.nullDevice
            guard (try? probe.run()) != nil else { return "strace cannot run" }
            Thread.sleep(forTimeInterval: 0.3)
            let attached = probe.isRunning
            probe.terminate()
            probe.waitUntilExit()
            return attached ? nil : "strace cannot attach (ptrace not permitted)"
        }()

        @Test(.enabled(if: straceUnavailable == nil, "needs strace allowed to attach (apt-get install strace)"))
        func attemptsBackOffToTheCeilingAndTheAgentReturns() async throws {
            try await FaultWorld.run { world in
                try await world.startMaster()
                let agentID = "backoff"
                try world.enrol(agentID)
                let agent = try world.startAgent(
                    agentID,
                    environment: ["DECNET_RECONNECT_IVL_MS": "500", "DECNET_RECONNECT_IVL_MAX_MS": "4000"]
                )
                _ = try await world.waitForRecord(agentID, "hello") { $0["hello_at"] != .null }
                let trace = world.root + "/connect.trace"
                let tracer = try ChildProcess(
                    name: "strace",
                    executable: Self.strace!,
                    arguments: ["-f", "-tt", "-e", "trace=connect", "-p", "\(agent.pid)", "-o", trace],
                    logDirectory: world.root
                )
                world.adopt(tracer)
                try await eventually("strace to attach", within: 10) { tracer.stderr.contains("attached") }
                try await world.killMaster()
                try await Task.sleep(for: .seconds(16))
                await tracer.stop(within: 5)  // SIGTERM: strace detaches and the agent runs on untraced
                let restartedAt = unixMillis()
                try await world.startMaster()
                let record = try await world.waitForRecord(agentID, "hello after the outage") {
                    $0["hello_at"] != .null
                }
                let helloAt = try #require(record["hello_at"]?.integerValue?.int64Value)
                let text = (try? String(contentsOfFile: trace, encoding: .utf8)) ?? ""
                let attempts = Self.connectTimes(text, port: world.commandPort)
                let gaps = zip(attempts.dropFirst(), attempts).map { $0 - $1 }
                measure("backoff_connect_gaps_ms", gaps.map(String.init).joined(separator: ","))
                measure("backoff_hello_ms_after_restart", helloAt - restartedAt)
                #expect(agent.isRunning)
                // 0.5 s doubling: gaps of about 1, 2, 4 s, then the 4 s ceiling; each one adds up to 0.5 s of
                // random jitter; 0.4 s allowed for scheduling on a shared machine.
                try #require(gaps.count >= 3, "connect attempts at \(attempts)")
                #expect(gaps[0] < 1_900)
                #expect(gaps.contains { $0 >= 3_600 }, "reaches the ceiling: \(gaps)")
                #expect(gaps.allSatisfy { $0 <= 4_900 }, "never beyond the ceiling plus jitter: \(gaps)")
                for (earlier, later) in zip(gaps, gaps.dropFirst()) where earlier < 3_600 {
                    #expect(later > earlier, "below the ceiling every wait is longer than the one before: \(gaps)")
                }
                #expect(helloAt - restartedAt <= 6_000)
            }
        }

        /// Milliseconds since midnight of each `connect(2)` to 127.0.0.1:`port` in an `strace -f -tt` log.
        static func connectTimes(_ text: String, port: Int) -> [Int] {
            text.split(separator: "\n").compactMap { line -> Int? in
                guard line.contains("htons(\(port))") else { return nil }
                let fields = line.split(separator: " ")
                guard fields.count > 1 else { return nil }
                let clock = fields[1].split(separator: ":")
                guard clock.count == 3, let h = Int(clock[0]), let m = Int(clock[1]), let s = Double(clock[2]) else {
                    return nil
                }
                return (h * 3600 + m * 60) * 1000 + Int(s * 1000)
            }
        }
    }
}
