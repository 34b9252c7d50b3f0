import Foundation
import TestSupport
import Topology

/// The sockets a process holds, from `/proc/<pid>/fd` (socket inodes) and that process's view of
/// `/proc/<pid>/net/{tcp,tcp6,udp,udp6,unix}`.
struct ProcessSockets {
    struct Socket: Equatable, CustomStringConvertible {
        var kind: String
        var inode: String
        var listening: Bool
        var localPort: Int?
        var remotePort: Int?
        var established: Bool

        var description: String {
            let flags = (listening ? " LISTENING" : "") + (established ? " ESTABLISHED" : "")
            return "\(kind) inode \(inode) local port \(localPort.map(String.init) ?? "-") remote port "
                + "\(remotePort.map(String.init) ?? "-")\(flags)"
        }
    }

    let sockets: [Socket]
    /// Socket inodes of the process that none of the tables knows (netlink, packet, ...).
    let unknown: Set<String>

    static func of(pid: Int32) throws -> ProcessSockets {
        let fdDirectory = "/proc/\(pid)/fd"
        var inodes = Set<String>()
        for fd in try FileManager.default.contentsOfDirectory(atPath: fdDirectory) {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: fdDirectory + "/" + fd),
                target.hasPrefix("socket:[")
            else { continue }
            inodes.insert(String(target.dropFirst(8).dropLast()))
        }
        var found: [Socket] = []
        for kind in ["tcp", "tcp6", "udp", "udp6"] {
            for fields in try table(pid, kind) where fields.count > 9 && inodes.contains(fields[9]) {
                let state = fields[3]
                found.append(
                    Socket(
                        kind: kind,
                        inode: fields[9],
                        // TCP_LISTEN is 0x0A; a bound UDP socket (state 07, unconnected) receives from anyone.
                        listening: kind.hasPrefix("tcp") ? state == "0A" : state == "07",
                        localPort: port(fields[1]),
                        remotePort: port(fields[2]),
                        established: state == "01"
                    )
                )
            }
        }
        for fields in try table(pid, "unix") where fields.count > 6 && inodes.contains(fields[6]) {
            // Flags 00010000 is __SO_ACCEPTCON: the socket listens.
            let flags = Int(fields[3], radix: 16) ?? 0
            found.append(
                Socket(
                    kind: "unix",
                    inode: fields[6],
                    listening: flags & 0x10000 != 0,
                    localPort: nil,
                    remotePort: nil,
                    established: fields[5] == "03"
                )
            )
        }
        return ProcessSockets(sockets: found, unknown: inodes.subtracting(found.map(\.inode)))
    }

    private static func table(_ pid: Int32, _ name: String) throws -> [[String]] {
        let path = "/proc/\(pid)/net/\(name)"
        // procfs files report a size of 0: read to the end (Foundation's String(contentsOfFile:) reads nothing).
        guard let text = try ProcNetSockets.readProcFile(path) else { return [] }
        return text.split(separator: "\n").dropFirst().map { $0.split(separator: " ").map(String.init) }
    }

    /// The port of `ADDRESS:PORT` in hex, as the tables write it.
    private static func port(_ address: String) -> Int? {
        address.split(separator: ":").last.flatMap { Int($0, radix: 16) }
    }
}
