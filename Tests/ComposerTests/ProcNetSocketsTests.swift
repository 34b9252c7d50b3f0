import Foundation
import Testing
import Topology

#if canImport(Glibc)
import Glibc
#endif

@Suite("Host socket tables")
struct ProcNetSocketsTests {
    static let tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 3500007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 20295 1 0000000000000000 100 0 0 10 0
           1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21001 1 0000000000000000 100 0 0 10 0
           2: 0200000A:0016 0100000A:D431 01 00000000:00000000 02:000A7B2C 00000000     0        0 31337 4 0000000000000000 20 4 31 10 -1
           3: 0200000A:A2F4 0101A8C0:01BB 06 00000000:00000000 03:00000B2C 00000000  1000        0 0 3 0000000000000000
        """
    static let tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 22 1 0000000000000000 100 0 0 10 0
        """
    static let udp = """
           sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
          123: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 20294 2 0000000000000000 0
          456: 0200000A:E2A1 08080808:0035 01 00000000:00000000 00:00000000 00000000  1000        0 99 2 0000000000000000 0
          789: 00000000:0000 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 98 2 0000000000000000 0
        """

    @Test func parsesListeningTCPAndBoundUDP() {
        #expect(ProcNetSockets.parse(Self.tcp, proto: .tcp) == [53, 22])
        #expect(ProcNetSockets.parse(Self.tcp6, proto: .tcp) == [8080])
        #expect(ProcNetSockets.parse(Self.udp, proto: .udp) == [53, 0xE2A1])
        #expect(ProcNetSockets.parse("garbage\n\n  0: zz:zz 0 0A\n", proto: .tcp).isEmpty)
    }

    @Test func mergesTheFourTablesAndToleratesMissingIPv6() throws {
        let tables = ["/p/tcp": Self.tcp, "/p/udp": Self.udp, "/p/tcp6": Self.tcp6]
        let sockets = ProcNetSockets(directory: "/p", readFile: { tables[$0] })
        #expect(
            try sockets.boundPorts() == [
                HostPort(53, .tcp), HostPort(22, .tcp), HostPort(8080, .tcp), HostPort(53, .udp),
                HostPort(0xE2A1, .udp),
            ]
        )
        let noIPv4 = ProcNetSockets(directory: "/p", readFile: { $0 == "/p/tcp" ? nil : "" })
        #expect { try noIPv4.boundPorts() } throws: { ($0 as? ComposeError)?.code == .hostPortsUnreadable }
    }

    @Test func missingFileReadsAsNil() throws {
        #expect(try ProcNetSockets.readProcFile("/proc/net/definitely-not-a-table") == nil)
    }

    /// A real listening TCP socket and a bound UDP socket show up in the real tables, and the preflight refuses a
    /// topology publishing that TCP port unless told the topology owns it.
    @Test func seesRealSocketsOnThisHost() throws {
        let tcp = try BoundSocket(stream: true)
        defer { tcp.close() }
        let udp = try BoundSocket(stream: false)
        defer { udp.close() }
        let ports = try ProcNetSockets().boundPorts()
        #expect(ports.contains(HostPort(tcp.port, .tcp)))
        #expect(ports.contains(HostPort(udp.port, .udp)))

        let catalog = ServiceCatalog(services: [
            ServiceDefinition(name: "probe", tcpPorts: [tcp.port], source: .image("x:1"), containerSuffix: "probe")
        ])
        let plan = try TopologyComposer(catalog: catalog, templatesRoot: "/t").compose(
            TestTopology.hydrated(deckies: [.init(name: "gw", services: ["probe"], forwards: true)])
        )
        #expect(
            try PortPreflight().check(plan) == [
                PortConflict(port: tcp.port, proto: .tcp, deckies: ["gw"], reason: .bound)
            ]
        )
        #expect(try PortPreflight().check(plan, ownedPorts: [HostPort(tcp.port, .tcp)]).isEmpty)
    }
}

/// A socket bound to an ephemeral loopback port (listening when TCP), closed by the test.
struct BoundSocket {
    struct Failure: Error {
        var what: String
        var errno: Int32

        /// Records errno, then closes the half-made socket.
        static func closing(_ fd: Int32, _ what: String) -> Failure {
            let failure = Failure(what: what, errno: Glibc.errno)
            _ = Glibc.close(fd)
            return failure
        }
    }

    let fd: Int32
    let port: Int

    init(stream: Bool) throws {
        let fd = socket(AF_INET, Int32(stream ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(what: "socket", errno: errno) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw Failure.closing(fd, "bind") }
        if stream {
            guard listen(fd, 1) == 0 else { throw Failure.closing(fd, "listen") }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw Failure.closing(fd, "getsockname") }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: addr.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}
