#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's descriptor limit (`RLIMIT_NOFILE`). A master facing thousands of peers raises its soft limit to
/// the hard one at start (systemd's default soft limit is 1,024), then keeps connections under what is left after a
/// reserve: without descriptors the Swift runtime cannot even open the files under /proc it needs, and aborts.
enum DescriptorLimit {
    /// Raises the soft limit to the hard limit where it can, and returns both as they are then.
    static func raise() -> (soft: Int, hard: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (1024, 1024) }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return (clamp(limit.rlim_cur), clamp(limit.rlim_max))
    }

    private static func clamp(_ value: rlim_t) -> Int {
        value > rlim_t(Int32.max) ? Int(Int32.max) : Int(value)
    }
}
