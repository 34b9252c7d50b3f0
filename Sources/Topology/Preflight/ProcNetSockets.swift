#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The ports held on this host, read from Linux's socket tables (`/proc/net/tcp`, `tcp6`, `udp`, `udp6`): TCP
/// sockets in the LISTEN state and every UDP socket with a local port. Any local address counts, since Docker
/// publishes on all addresses. The tables show the agent's own network namespace, so the agent must run in the
/// host's.
public struct ProcNetSockets: Sendable {
    /// Returns a file's text, or nil when the file does not exist.
    public typealias FileReader = @Sendable (String) throws(ComposeError) -> String?

    public var directory: String
    private let readFile: FileReader

    /// - Parameters:
    ///   - directory: where the tables are (`/proc/net`).
    ///   - readFile: how to read one; tests inject canned tables.
    public init(directory: String = "/proc/net", readFile: @escaping FileReader = ProcNetSockets.readProcFile) {
        self.directory = directory
        self.readFile = readFile
    }

    /// The four tables merged. `tcp6`/`udp6` may be missing (IPv6 disabled); a missing IPv4 table is an error.
    public func boundPorts() throws(ComposeError) -> Set<HostPort> {
        var ports = Set<HostPort>()
        for (file, proto, required) in [
            ("tcp", PortProtocol.tcp, true), ("tcp6", .tcp, false), ("udp", .udp, true), ("udp6", .udp, false),
        ] {
            let path = directory + "/" + file
            guard let text = try readFile(path) else {
                if required { throw ComposeError(.hostPortsUnreadable, "\(path) does not exist") }
                continue
            }
            for port in Self.parse(text, proto: proto) { ports.insert(HostPort(port, proto)) }
        }
        return ports
    }

    /// TCP LISTEN state in the `st` column.
    static let tcpListen = 0x0A

    /// The local ports of one table: for TCP only LISTEN sockets, for UDP every socket bound to a port. Lines that
    /// do not parse (the header) are skipped.
    public static func parse(_ text: String, proto: PortProtocol) -> Set<Int> {
        var ports = Set<Int>()
        for line in text.split(separator: "\n") {
            // "sl local_address rem_address st ...": local_address is HEXADDR:HEXPORT.
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 4, fields[0].hasSuffix(":"),
                let colon = fields[1].lastIndex(of: ":"),
                let port = Int(fields[1][fields[1].index(after: colon)...], radix: 16),
                let state = Int(fields[3], radix: 16)
            else { continue }
            if port == 0 { continue }
            if proto == .tcp && state != tcpListen { continue }
            ports.insert(port)
        }
        return ports
    }

    /// Reads a procfs file to its end (their reported size is 0, so read until EOF). ENOENT gives nil.
    public static let readProcFile: FileReader = { (path: String) throws(ComposeError) -> String? in
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let err = errno
            if err == ENOENT { return nil }
            throw ComposeError(.hostPortsUnreadable, "cannot open \(path): \(String(cString: strerror(err)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                let err = errno
                if err == EINTR { continue }
                throw ComposeError(.hostPortsUnreadable, "cannot read \(path): \(String(cString: strerror(err)))")
            }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
