import DecnetJSON
import Foundation
import TestSupport
import Testing

/// The CI-sized load run: `scripts/load-test.sh 200 20` with this build's binaries (one master, 200 simulated CURVE
/// agents heartbeating every second for 20 s, then a master kill -9 and restart). The full 1,000-agent run is
/// recorded in docs/reliability.md#load.
@Suite(.serialized)
struct LoadTestTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let agents = 200
    static let seconds = 20

    @Test("200 agents × 20 s: every heartbeat reaches the monitor; all agents come back after a master restart")
    func smallLoadRun() async throws {
        let out = NSTemporaryDirectory() + "load-test-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: out) }
        var environment = ProcessInfo.processInfo.environment
        environment["DECNET_BIN_DIR"] = ProcessRunner.productsDirectory.path
        environment["DECNET_LOAD_OUT"] = out
        let script = Self.repository.appendingPathComponent("scripts/load-test.sh").path
        let run = try await Shell.run(
            ["bash", script, String(Self.agents), String(Self.seconds)],
            timeout: 600,
            environment: environment
        )
        #expect(run.status == 0, "load-test.sh failed:\n\(run.stderr.suffix(4000))")

        let summary = try JSONParser.parse(try String(contentsOfFile: out + "/summary.json", encoding: .utf8))
        let heartbeats = try #require(summary["heartbeats"])
        let sent = heartbeats["sent"]?.intValue ?? 0
        #expect(sent >= Self.agents * (Self.seconds - 2), "heartbeats sent: \(sent)")
        #expect(heartbeats["received"]?.intValue == sent)
        #expect(heartbeats["lost"]?.intValue == 0)
        #expect(heartbeats["sent_unsubscribed"]?.intValue == 0)
        #expect(heartbeats["duplicates"]?.intValue == 0)
        // The master itself saw no gap and dropped nothing while relaying.
        #expect(summary["master_counters"]?["heartbeat_gaps"]?.intValue == 0)
        #expect(summary["master_counters"]?["dropped_total"]?.intValue == 0)
        #expect(summary["master_process"]?["cpu_percent_avg"]?.isNumber == true)
        #expect(summary["master_process"]?["hwm_kib"]?.intValue ?? 0 > 0)

        let restart = try #require(summary["restart"])
        #expect(restart["connected_again"]?.intValue == Self.agents)
        #expect(restart["all_connected_after_kill_ms"]?.intValue != nil)
        #expect(restart["seen_by_agents"]?["reconnected_agents"]?.intValue == Self.agents)
        #expect(restart["seen_by_agents"]?["heartbeats_resumed_agents"]?.intValue == Self.agents)

        // The per-agent accounting in the full report agrees with the totals.
        let report = try JSONParser.parse(try String(contentsOfFile: out + "/report.json", encoding: .utf8))
        let rows = try #require(report["steady"]?["per_agent"]?.arrayValue)
        #expect(rows.count == Self.agents)
        let columns = rows.map { $0.arrayValue?.map { $0.intValue ?? -1 } ?? [] }
        #expect(columns.allSatisfy { $0.count == 4 && $0[3] == 0 && $0[1] == $0[2] })
        #expect(columns.reduce(0) { $0 + ($1.count == 4 ? $1[1] : 0) } == sent)
        print("load test: \(summary.jsonText)")
    }
}
