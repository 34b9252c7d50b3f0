import Foundation
import TestSupport

/// The service manager's end of `NOTIFY_SOCKET` for tests: an `AF_UNIX` `SOCK_DGRAM` socket bound to a file in a
/// fresh temporary directory, or to a random name in the abstract namespace. Collects every datagram received;
/// ``address`` is the value to put in a child's `NOTIFY_SOCKET` (`/tmp/.../notify` or `@name`). Reads never block:
/// waits poll, so no thread of the cooperative pool is held.
public final class NotifyListener: @unchecked Sendable {
    public let address: String
    private let fd: Int32
    private let directory: TemporaryDirectory?
    private let received = Locked<[String]>([])

    public init(abstract: Bool = false) throws {
        let name: [UInt8]
        if abstract {
            directory = nil
            let random = "decnet-notify-test-\(UUID().uuidString)"
            address = "@" + random
            name = [0] + Array(random.utf8)
        } else {
            let folder = try TemporaryDirectory("notify")
            directory = folder
            address = folder.file("notify")
            name = Array(address.utf8)
        }
        fd = socket(
            AF_UNIX,
            Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
            0
        )
        guard fd >= 0 else { throw FixtureError("socket: errno \(errno)") }
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &storage.sun_path) { $0.copyBytes(from: name) }
        let length = socklen_t(
            MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count + (abstract ? 0 : 1)
        )
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            let error = errno
            close(fd)
            directory?.remove()
            throw FixtureError("bind \(address): errno \(error)")
        }
    }

    deinit {
        close(fd)
        directory?.remove()
    }

    /// Every datagram so far, in order (reads what is waiting first).
    public var datagrams: [String] {
        drain()
        return received.value
    }

    /// Every assignment so far (`READY=1`, `STATUS=...`), datagrams split at their newlines.
    public var assignments: [String] {
        datagrams.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
    }

    /// The `STATUS=` values so far.
    public var statuses: [String] {
        assignments.compactMap { $0.hasPrefix("STATUS=") ? String($0.dropFirst(7)) : nil }
    }

    /// Waits up to `seconds` for an assignment satisfying `predicate`; returns it.
    public func wait(within seconds: Double, for predicate: @escaping (String) -> Bool) async -> String? {
        var found: String?
        _ = await eventually(within: seconds, every: .milliseconds(10)) {
            found = assignments.first(where: predicate)
            return found != nil
        }
        return found
    }

    private func drain() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count >= 0 else { return }
            let datagram = String(decoding: buffer[..<count], as: UTF8.self)
            received.withLock { $0.append(datagram) }
        }
    }
}
