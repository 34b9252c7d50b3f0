import DecnetJSON
import Foundation

/// CPU time and memory of one process, read from `/proc/PID/stat` (user + system time) and `/proc/PID/status`
/// (`VmRSS`, `VmHWM`) once a second while a phase runs.
struct ProcessSampler: Sendable {
    /// One reading.
    struct Sample: Sendable {
        let atMillis: Int64
        /// User plus system CPU time in clock ticks.
        let cpuTicks: Int
        let rssKiB: Int
        let hwmKiB: Int
    }

    let pid: Int32
    let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// Reads the process now; `nil` when it is gone or unreadable.
    func sample(at millis: Int64) -> Sample? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return Sample(
            atMillis: millis,
            cpuTicks: user + system,
            rssKiB: Self.kibibytes("VmRSS", in: status),
            hwmKiB: Self.kibibytes("VmHWM", in: status)
        )
    }

    static func kibibytes(_ key: String, in status: String) -> Int {
        for line in status.split(separator: "\n") where line.hasPrefix(key + ":") {
            let value = line.dropFirst(key.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first
            return Int(value ?? "") ?? 0
        }
        return 0
    }

    /// Average and busiest-second CPU use in percent of one core, and memory, over `samples`.
    func summary(_ samples: [Sample]) -> JSONValue {
        guard let first = samples.first, let last = samples.last, last.atMillis > first.atMillis else {
            return ["pid": JSONValue(Int(pid)), "samples": JSONValue(samples.count)]
        }
        func percent(_ a: Sample, _ b: Sample) -> Double {
            Double(b.cpuTicks - a.cpuTicks) / ticksPerSecond / (Double(b.atMillis - a.atMillis) / 1000) * 100
        }
        var busiest = 0.0
        for (a, b) in zip(samples, samples.dropFirst()) where b.atMillis > a.atMillis {
            busiest = max(busiest, percent(a, b))
        }
        return [
            "pid": JSONValue(Int(pid)), "samples": JSONValue(samples.count),
            "seconds": .float(Double(last.atMillis - first.atMillis) / 1000),
            "cpu_seconds": .float(Self.rounded(Double(last.cpuTicks - first.cpuTicks) / ticksPerSecond)),
            "cpu_percent_avg": .float(Self.rounded(percent(first, last))),
            "cpu_percent_max_1s": .float(Self.rounded(busiest)),
            "rss_kib_start": JSONValue(first.rssKiB), "rss_kib_end": JSONValue(last.rssKiB),
            "rss_kib_max": JSONValue(samples.map(\.rssKiB).max() ?? 0), "hwm_kib": JSONValue(last.hwmKiB),
            "rss_kib_every_30s": .array(series(samples, everyMillis: 30_000).map { JSONValue($0.rssKiB) }),
        ]
    }

    /// The first sample, then one per `everyMillis` after it, and the last: enough to see whether memory levels off.
    func series(_ samples: [Sample], everyMillis: Int64) -> [Sample] {
        guard let first = samples.first else { return [] }
        var picked = [first]
        for sample in samples.dropFirst() where sample.atMillis - picked.last!.atMillis >= everyMillis {
            picked.append(sample)
        }
        if let last = samples.last, picked.last!.atMillis != last.atMillis { picked.append(last) }
        return picked
    }

    static func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
}
