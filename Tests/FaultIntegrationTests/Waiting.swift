import Foundation
import TestSupport

/// A bounded wait of a fault test ran out, or its set-up failed; says what was awaited.
struct FaultTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Unix time in milliseconds (what the master stamps `hello_at` with).
func unixMillis() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
}

/// Milliseconds elapsed since `start`.
func millis(since start: ContinuousClock.Instant) -> Int {
    let elapsed = ContinuousClock.now - start
    return Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
}

/// TestSupport's `eventually(within:every:_:)` that throws naming `what` once `seconds` have passed.
func eventually(
    _ what: String,
    within seconds: Double,
    every: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async throws {
    guard try await TestSupport.eventually(within: seconds, every: every, condition) else {
        throw FaultTestError("timed out after \(seconds) s waiting for \(what)")
    }
}

/// Polls `value` until it returns something; throws naming `what` once `seconds` have passed.
func awaitValue<T>(
    _ what: String,
    within seconds: Double,
    every: Duration = .milliseconds(50),
    _ value: () async throws -> T?
) async throws -> T {
    var found: T?
    try await eventually(what, within: seconds, every: every) {
        found = try await value()
        return found != nil
    }
    return found!
}

/// The first directory of `PATH` (plus the usual system ones) holding an executable `name`.
func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let folders = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]
    return folders.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// Loopback TCP ports that were free a moment ago (bound to port 0 together, then released).
func freeLoopbackPorts(_ count: Int) throws -> [Int] {
    var sockets: [Int32] = []
    defer { for socket in sockets { close(socket) } }
    var ports: [Int] = []
    for _ in 0..<count {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FaultTestError("socket failed: errno \(errno)") }
        sockets.append(fd)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw FaultTestError("bind failed: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        ports.append(Int(UInt16(bigEndian: address.sin_port)))
    }
    return ports
}
