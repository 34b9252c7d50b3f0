#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The service manager's notification protocol (`sd_notify(3)`), spoken directly: one datagram of
/// newline-separated `NAME=value` assignments sent to the `AF_UNIX` `SOCK_DGRAM` socket named by `NOTIFY_SOCKET`.
/// A name starting with `/` is a socket file; a leading `@` names a socket in the abstract namespace (the `@` stands
/// for the leading NUL byte). No libsystemd.
///
/// Without `NOTIFY_SOCKET` (not started by systemd, or `Type=` is not `notify`) every call does nothing, so callers
/// need no conditions of their own. Sending never blocks for long and never fails the caller: a datagram that cannot
/// be sent is dropped and `false` returned, as `sd_notify` does.
public struct SystemdNotifier: Sendable {
    /// Where the datagrams go.
    public enum Address: Sendable, Equatable, CustomStringConvertible {
        /// A socket file, such as `/run/systemd/notify`.
        case path(String)
        /// A name in the abstract namespace (written `@name` in `NOTIFY_SOCKET`), without the leading NUL.
        case abstract(String)

        /// Parses `NOTIFY_SOCKET`: `/path` or `@name`; anything else (a relative path, `vsock:`, empty) is `nil`.
        public init?(_ value: String) {
            if value.hasPrefix("/") {
                self = .path(value)
            } else if value.hasPrefix("@"), value.utf8.count > 1 {
                self = .abstract(String(value.dropFirst()))
            } else {
                return nil
            }
        }

        public var description: String {
            switch self {
            case .path(let path): path
            case .abstract(let name): "@" + name
            }
        }
    }

    /// `nil`: notifications are off.
    public let address: Address?
    /// How often the service manager expects `WATCHDOG=1` at the latest (`WATCHDOG_USEC`), when it expects it from
    /// this process at all.
    public let watchdogInterval: Duration?

    public init(address: Address?, watchdogInterval: Duration? = nil) {
        self.address = address
        self.watchdogInterval = watchdogInterval
    }

    /// From `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` (the watchdog is this process's only when
    /// `WATCHDOG_PID` is unset or names it, as `sd_watchdog_enabled(3)` decides).
    public init(environment: [String: String], pid: Int32 = getpid()) {
        self.init(
            address: environment["NOTIFY_SOCKET"].flatMap(Address.init),
            watchdogInterval: Self.watchdogInterval(environment: environment, pid: pid)
        )
    }

    /// From this process's environment.
    public static func fromProcessEnvironment() -> SystemdNotifier {
        var environment: [String: String] = [:]
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        return SystemdNotifier(environment: environment)
    }

    public static func watchdogInterval(environment: [String: String], pid: Int32) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let micros = UInt64(text), micros > 0,
            micros <= UInt64(Int64.max)
        else { return nil }
        if let owner = environment["WATCHDOG_PID"] {
            guard let owner = Int32(owner), owner == pid else { return nil }
        }
        return .microseconds(Int64(micros))
    }

    public var isEnabled: Bool { address != nil }

    /// Sends `assignments` (`("READY", "1")`, `("STATUS", "...")`) in one datagram; values have newlines replaced
    /// by spaces, since a newline ends an assignment. Returns whether the datagram left.
    @discardableResult
    public func notify(_ assignments: [(String, String)]) -> Bool {
        guard let address, !assignments.isEmpty else { return false }
        let text = assignments.map { "\($0.0)=\(Self.oneLine($0.1))" }.joined(separator: "\n")
        return Self.send(Array(text.utf8), to: address)
    }

    /// `READY=1`, with a first `STATUS=` when given.
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        notify([("READY", "1")] + (status.map { [("STATUS", $0)] } ?? []))
    }

    /// `STATUS=text`: what `systemctl status` shows.
    @discardableResult
    public func status(_ text: String) -> Bool { notify([("STATUS", text)]) }

    /// `WATCHDOG=1`: the process is alive.
    @discardableResult
    public func watchdog() -> Bool { notify([("WATCHDOG", "1")]) }

    /// `STOPPING=1`, with a last `STATUS=` when given.
    @discardableResult
    public func stopping(status: String? = nil) -> Bool {
        notify([("STOPPING", "1")] + (status.map { [("STATUS", $0)] } ?? []))
    }

    /// `text` on one line: CR and LF become spaces.
    static func oneLine(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return text }
        return String(text.map { $0 == "\n" || $0 == "\r" || $0 == "\r\n" ? " " : $0 })
    }

    /// The longest name `sockaddr_un` holds: `sun_path` less the NUL of a path, or less the leading NUL of an
    /// abstract name.
    static var maximumNameBytes: Int { MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1 }

    static func send(_ datagram: [UInt8], to address: Address) -> Bool {
        var name: [UInt8]
        switch address {
        case .path(let path): name = Array(path.utf8)
        case .abstract(let abstract): name = [0] + Array(abstract.utf8)
        }
        let isAbstract = name.first == 0
        guard name.count <= maximumNameBytes + (isAbstract ? 1 : 0) else { return false }
        #if canImport(Darwin)
        let fd = socket(AF_UNIX, SOCK_DGRAM, 0)
        #else
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            raw.copyBytes(from: name)
        }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        // A path is given with its NUL; an abstract name is exactly its bytes (the kernel counts every byte).
        let length = socklen_t(offset + name.count + (isAbstract ? 0 : 1))
        #if canImport(Darwin)
        let flags: Int32 = 0
        #else
        let flags = Int32(MSG_NOSIGNAL)
        #endif
        let sent = datagram.withUnsafeBytes { bytes in
            withUnsafePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                    sendto(fd, bytes.baseAddress, bytes.count, flags, address, length)
                }
            }
        }
        return sent == datagram.count
    }
}
