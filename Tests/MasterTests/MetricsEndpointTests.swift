import Foundation
import Logging
import MetricsEndpoint
import NIOCore
import Prometheus
import ServiceLifecycle
import Testing

@testable import Master

/// The metrics endpoint without a master (docs/metrics.md): its address setting, its HTTP answers and its bounds,
/// over real sockets on loopback.
@Suite("metrics endpoint")
struct MetricsEndpointTests {
    @Test(arguments: [
        ("9108", "127.0.0.1", 9108), (":9108", "127.0.0.1", 9108), ("0.0.0.0:80", "0.0.0.0", 80),
        ("[::1]:9108", "::1", 9108), ("metrics.example:0", "metrics.example", 0), ("10.1.2.3:65535", "10.1.2.3", 65535),
    ])
    func addressesParse(_ text: String, _ host: String, _ port: Int) throws {
        let address = try MetricsAddress(parsing: text)
        #expect(address == MetricsAddress(host: host, port: port))
    }

    @Test(arguments: [
        "", ":", "abc", "70000", "1.2.3.4:", "1.2.3.4:x1", "::1:9108", "[::1]9108", "[::1", "[1.2.3.4]:5",
        "host name:1", "-1", "1.2.3.4:+80", "1.2.3.4:0009108",
    ])
    func badAddressesAreRefusedWithTheirText(_ text: String) {
        #expect {
            _ = try MetricsAddress(parsing: text)
        } throws: { error in
            "\(error)".contains("metrics address '\(text)'")
        }
    }

    /// Every metric the master declares, exported with HELP and TYPE from the first scrape on.
    @Test func theExpositionHasEveryDeclaredMetricWithItsHelp() async throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = MasterMetrics(factory: DescribedPrometheusFactory(registry: registry))
        metrics.heartbeatRelayed()
        metrics.heartbeatRelayed()
        metrics.dropped(.oversize)
        metrics.finished(.state, outcome: .ok, nanoseconds: 30_000_000)
        try await Self.withServer(registry: registry) { (port: Int, _) async throws in
            let (status, body) = try await Self.exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(status == 200)
            for name in MetricName.allCases {
                #expect(body.contains("# HELP \(name.rawValue) \(name.help)\n"), "\(name.rawValue)")
                #expect(body.contains("# TYPE \(name.rawValue) \(name.kind.rawValue)\n"), "\(name.rawValue)")
            }
            #expect(body.contains("\ndecnet_master_heartbeats_relayed_total 2\n"))
            #expect(body.contains(#"decnet_master_messages_dropped_total{reason="oversize"} 1"#))
            #expect(body.contains(#"decnet_master_messages_dropped_total{reason="garbage"} 0"#))
            #expect(body.contains(#"decnet_master_requests_total{type="state",outcome="ok"} 1"#))
            #expect(body.contains(#"decnet_master_request_duration_seconds_bucket{type="state",le="0.05"} 1"#))
            #expect(body.contains(#"decnet_master_request_duration_seconds_bucket{type="state",le="0.025"} 0"#))
        }
    }

    @Test func otherPathsMethodsAndGarbageGetTheirStatus() async throws {
        try await Self.withServer(registry: PrometheusCollectorRegistry()) { (port: Int, _) async throws in
            #expect(try await Self.exchange(port, "GET / HTTP/1.1\r\n\r\n").status == 404)
            #expect(try await Self.exchange(port, "GET /metricsx HTTP/1.1\r\n\r\n").status == 404)
            #expect(try await Self.exchange(port, "HEAD /metrics HTTP/1.1\r\n\r\n").status == 405)
            #expect(
                try await Self.exchange(port, "POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nab").status == 405
            )
            #expect(try await Self.exchange(port, "GET /metrics?x=1 HTTP/1.1\r\n\r\n").status == 200)
            #expect(try await Self.exchange(port, "\u{16}\u{3}\u{1} hello\r\n\r\n").status == 400)
        }
    }

    @Test func oversizeAndSilentConnectionsAreClosedAndCounted() async throws {
        let registry = PrometheusCollectorRegistry()
        var limits = MetricsEndpointLimits()
        // Long enough that a loaded machine still probes the third connection while the two silent ones hold their
        // slots; the test waits for the server to hold both (a witness), not for a fixed time.
        limits.connectionDeadline = .seconds(3)
        limits.maxConnections = 2
        try await Self.withServer(registry: registry, limits: limits) { (port: Int, server) async throws in
            let huge = "GET /metrics?" + String(repeating: "a", count: 100_000) + " HTTP/1.1\r\n\r\n"
            #expect(try await Self.exchange(port, huge).status == nil)
            #expect(await eventually { server.openConnections == 0 })
            // Two silent connections hold both slots; a third is closed at once; the two at the deadline.
            let started = ContinuousClock.now
            async let first = Self.exchange(port, "")
            async let second = Self.exchange(port, "")
            #expect(await eventually { server.openConnections == 2 })
            #expect(try await Self.exchange(port, "GET /metrics HTTP/1.1\r\n\r\n").status == nil)
            #expect(try await first.status == nil)
            #expect(try await second.status == nil)
            // Closed by the deadline, not sooner.
            #expect(ContinuousClock.now - started >= .seconds(3))
            let (status, body) = try await Self.exchange(port, "GET /metrics HTTP/1.1\r\n\r\n")
            #expect(status == 200)
            #expect(body.contains(#"decnet_master_metrics_connections_refused_total{reason="oversize"} 1"#))
            #expect(body.contains(#"decnet_master_metrics_connections_refused_total{reason="over_capacity"} 1"#))
            #expect(body.contains(#"decnet_master_metrics_connections_refused_total{reason="deadline"} 2"#))
        }
    }

    // MARK: helpers

    static func withServer(
        registry: PrometheusCollectorRegistry,
        limits: MetricsEndpointLimits = MetricsEndpointLimits(),
        _ body: @Sendable (Int, MetricsHTTPServer) async throws -> Void
    ) async throws {
        let (ports, sink) = AsyncStream.makeStream(of: Int.self)
        let server = MetricsHTTPServer(
            address: MetricsAddress(host: "127.0.0.1", port: 0),
            registry: registry,
            limits: limits,
            logger: Logger(label: "test.metrics"),
            onBound: { sink.yield($0.port ?? 0) },
            refresh: {}
        )
        let group = ServiceGroup(services: [server], logger: Logger(label: "test.metrics"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            defer { Task { await group.triggerGracefulShutdown() } }
            try await body(port, server)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// Sends `request` on a fresh connection (on a thread of its own: blocking calls stay off the cooperative
    /// pool) and reads until the server closes: the status (nil when nothing came back) and the body.
    static func exchange(_ port: Int, _ request: String) async throws -> (status: Int?, body: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try blockingExchange(port, Array(request.utf8)) })
            }
        }
    }

    private static func blockingExchange(_ port: Int, _ request: [UInt8]) throws -> (status: Int?, body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        let text = String(decoding: answer, as: UTF8.self)
        let parts = text.split(separator: " ", maxSplits: 2)
        let status = parts.count >= 2 && parts[0].hasPrefix("HTTP/1.") ? Int(parts[1]) : nil
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (status, body)
    }
}
