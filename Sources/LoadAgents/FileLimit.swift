#if canImport(Glibc)
import Glibc
#endif

/// The open-files limit (`RLIMIT_NOFILE`): every simulated agent needs about six descriptors (four ZeroMQ sockets'
/// mailboxes, two TCP connections).
enum FileLimit {
    /// Raises the soft limit to the hard limit and returns the soft limit now in force.
    static func raiseToHardLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return -1 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(clamping: limit.rlim_cur)
    }
}
