import AgentProtocol
import DecnetJSON
import SystemFiles

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The metrics hooks that need the core's state (docs/metrics.md): request outcomes and durations, and the gauges
/// and ZAP totals brought up to date at each scrape.
extension MasterCore {
    /// A new request was taken: its duration runs from now.
    func metricsRequestStarted(_ key: RequestKey, type: RequestType, now: Int64) {
        requestStarts[key] = (type, now)
    }

    /// A request ended with `event` (its last one): counted by type and outcome, its duration recorded.
    func metricsRequestFinished(_ key: RequestKey, with event: RequestEvent) {
        guard let start = requestStarts.removeValue(forKey: key) else { return }
        let outcome: MasterMetrics.Outcome
        switch event {
        case .answer(let envelope):
            let status = envelope["status"]?.intValue ?? 0
            outcome = (200...299).contains(status) ? .ok : .error
        case .failed(let error):
            switch error.code {
            case .timeout: outcome = .timeout
            case .revoked: outcome = .revoked
            case .shutdown: outcome = .shutdown
            default: outcome = .other
            }
        case .submitted:
            return
        }
        let millis = max(0, clock() - start.at)
        metrics.finished(start.type, outcome: outcome, nanoseconds: millis.multipliedSaturating(by: 1_000_000))
    }

    /// Brings the gauges and the ZAP totals up to date; the exporter calls this before each scrape.
    public func refreshMetrics() {
        metrics.carryOver(zap: zapStatistics())
        metrics.setGauges(
            health: health(),
            openConnections: connections.count,
            connectionLimit: limits.maxConnections,
            descriptors: (Self.openDescriptors(), Self.descriptorSoftLimit())
        )
    }

    /// Entries of /proc/self/fd, less the one the count itself opens (-1 when /proc cannot be read).
    static func openDescriptors() -> Int {
        let listing = DirectoryListing.names(at: "/proc/self/fd")
        guard listing.errno == nil else { return -1 }
        return max(0, listing.names.count - 1)
    }

    static func descriptorSoftLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return -1 }
        return limit.rlim_cur > rlim_t(Int32.max) ? Int(Int32.max) : Int(limit.rlim_cur)
    }
}

extension MasterServer {
    /// Brings the master's gauges and carried-over totals up to date (the metrics endpoint calls it per scrape).
    public func refreshMetrics() async {
        await core.refreshMetrics()
    }
}
