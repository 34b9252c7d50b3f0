import DecnetJSON
import Foundation
import LiveTestSupport
import TestSupport
import Testing

@testable import DockerEngine

#if canImport(Glibc)
import Glibc
#endif

/// The HTTP layer against a scripted peer: framing, keep-alive, the pool bound, timeouts and broken streams.
@Suite struct DockerClientProtocolTests {
    static func client(_ daemon: FakeDaemon, readTimeout: Duration = .seconds(5), connections: Int = 4) -> DockerClient
    {
        DockerClient(
            configuration: .init(socketPath: daemon.path, maximumConnections: connections, readTimeout: readTimeout)
        )
    }

    static func chunk(_ text: String) -> String {
        String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n"
    }

    static let streamHead = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"

    @Test func eventsSplitAcrossChunksThenTheDaemonGoesAway() async throws {
        let events = [
            #"{"Type":"container","Action":"start","Actor":{"ID":"a","Attributes":{"name":"one"}},"timeNano":1}"#,
            #"{"Type":"container","Action":"die","Actor":{"ID":"a","Attributes":{"name":"one"}},"timeNano":2}"#,
            #"{"Type":"network","Action":"connect","Actor":{"ID":"n","Attributes":{"container":"a"}},"timeNano":3}"#,
        ]
        let daemon = try FakeDaemon { connection in
            while let request = connection.readRequest() {
                if connection.answerVersion(request) { continue }
                connection.write(Self.streamHead)
                let text = events.joined(separator: "\n") + "\n"
                // Cut the stream in the middle of objects and of the newline-separated boundaries.
                for piece in [text.prefix(10), text.dropFirst(10).prefix(90), text.dropFirst(100)] {
                    connection.write(Self.chunk(String(piece)))
                    connection.pause(0.05)
                }
                return  // closes the socket without the terminating chunk: the daemon went away
            }
        }
        defer { daemon.stop() }
        let client = Self.client(daemon)
        let stream = try await client.events(filters: ["type": ["container", "network"]])
        var received: [DockerEvent] = []
        let error = await #expect(throws: DockerError.self) {
            for try await event in stream { received.append(event) }
        }
        #expect(error?.code == .unavailable)
        #expect(received.map(\.action) == ["start", "die", "connect"])
        #expect(received.map(\.timeNano) == [1, 2, 3])
        #expect(daemon.requests.last?.contains("/v1.41/events?filters=") == true)
        try await client.shutdown()
    }

    @Test func eventsEndedByTheDaemonFinishNormally() async throws {
        let daemon = try FakeDaemon { connection in
            while let request = connection.readRequest() {
                if connection.answerVersion(request) { continue }
                connection.write(
                    Self.streamHead + Self.chunk(#"{"Type":"container","Action":"start"}"# + "\n") + "0\r\n\r\n"
                )
            }
        }
        defer { daemon.stop() }
        let client = Self.client(daemon)
        var actions: [String] = []
        for try await event in try await client.events(until: "0") { actions.append(event.action) }
        #expect(actions == ["start"])
        try await client.shutdown()
    }

    @Test func eventsWithABadFilterThrowAtSubscription() async throws {
        let daemon = try FakeDaemon { connection in
            while let request = connection.readRequest() {
                if connection.answerVersion(request) { continue }
                connection.respond("400 Bad Request", #"{"message":"invalid filter 'bogus'"}"#)
            }
        }
        defer { daemon.stop() }
        let client = Self.client(daemon)
        let error = await #expect(throws: DockerError.self) { _ = try await client.events(filters: ["bogus": ["x"]]) }
        #expect(error?.code == .badRequest && error?.message == "invalid filter 'bogus'" && error?.status == 400)
        #expect(client.poolStatistics.dedicated == 0)
        try await client.shutdown()
    }

    @Test func aSilentDaemonTimesOut() async throws {
        let daemon = try FakeDaemon { connection in
            while let request = connection.readRequest() {
                if connection.answerVersion(request) { continue }
                connection.pause(2)  // never answers in time
            }
        }
        defer { daemon.stop() }
        let client = Self.client(daemon, readTimeout: .milliseconds(300))
        let started = ContinuousClock.now
        let error = await #expect(throws: DockerError.self) { _ = try await client.info() }
        #expect(error?.code == .timeout && error?.operation == "GET /info")
        #expect(ContinuousClock.now - started < .seconds(1.5))
        try await client.shutdown()
    }

    @Test func garbageIsAProtocolError() async throws {
        let daemon = try FakeDaemon { connection in
            while let request = connection.readRequest() {
                if connection.answerVersion(request) { continue }
                connection.write("SMTP ready\r\n\r\n")
                return
            }
        }
        defer { daemon.stop() }
        let client = Self.client(daemon)
        let error = await #expect(throws: DockerError.self) { _ = try await client.info() }
        #expect(error?.code == .protocol)
        try await client.shutdown()
    }

    @Test func headersAndVersionPrefixOnTheWire() async throws {
        let daemon = try FakeDaemon { connection in
            while let request = connection.readRequest() {
                if connection.answerVersion(request, api: "1.45") { continue }
                connection.respond("204 No Content", "")
            }
        }
        defer { daemon.stop() }
        let client = Self.client(daemon)
        try await client.startContainer("web")
        #expect(try await client.apiVersion() == DockerAPIVersion(1, 41))
        #expect(daemon.requests == ["GET /version HTTP/1.1", "POST /v1.41/containers/web/start HTTP/1.1"])
        let start = daemon.heads[1].lowercased().split(separator: "\r\n").map(String.init)
        #expect(start.contains("host: docker") && start.contains("content-length: 0"))
        #expect(!start.contains { $0.hasPrefix("transfer-encoding") })
        let version = daemon.heads[0].lowercased()
        #expect(version.contains("host: docker") && !version.contains("content-length"))
        try await client.shutdown()
    }

    @Test func anOldDaemonIsRefused() async throws {
        let daemon = try FakeDaemon { connection in
            while let request = connection.readRequest() {
                if connection.answerVersion(request, api: "1.39") { continue }
                connection.respond("200 OK", "{}")
            }
        }
        defer { daemon.stop() }
        let client = Self.client(daemon)
        let error = await #expect(throws: DockerError.self) { _ = try await client.info() }
        #expect(error?.code == .unsupported && error?.message.contains("1.39") == true)
        try await client.shutdown()
    }

    @Test func thePoolNeverOpensMoreThanItsBound() async throws {
        let daemon = try FakeDaemon { connection in
            while let request = connection.readRequest() {
                if connection.answerVersion(request) { continue }
                connection.pause(0.2)
                connection.respond("200 OK", #"{"ok":true}"#)
            }
        }
        defer { daemon.stop() }
        let client = Self.client(daemon, connections: 4)
        _ = try await client.apiVersion()
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { _ = try await client.info() } }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - started
        #expect(daemon.counts.peak == 4 && daemon.counts.accepted == 4)
        #expect(client.poolStatistics.peakOpen == 4 && client.poolStatistics.idle == 4)
        // Two waves of four 0.2 s requests, not one (unbounded) and not eight (serial).
        #expect(elapsed >= .milliseconds(380) && elapsed < .milliseconds(1500))
        try await client.shutdown()
    }

    @Test func connectionsClosedByThePeerAreNotReused() async throws {
        let daemon = try FakeDaemon { connection in
            if let request = connection.readRequest() {
                if connection.answerVersion(request) { return }
                connection.respond("200 OK", #"{"ok":true}"#)
            }
            // One request per connection, without announcing `Connection: close`.
        }
        defer { daemon.stop() }
        let client = Self.client(daemon, connections: 1)
        for _ in 0..<5 { _ = try await client.info() }
        #expect(daemon.counts.accepted == 6)
        try await client.shutdown()
    }

    @Test func cancellingARequestReportsCancelled() async throws {
        let daemon = try FakeDaemon { connection in
            while let request = connection.readRequest() {
                if connection.answerVersion(request) { continue }
                connection.pause(3)
            }
        }
        defer { daemon.stop() }
        let client = Self.client(daemon)
        _ = try await client.apiVersion()
        let task = Task { try await client.waitContainer("slow") }
        // Cancelled while the daemon holds the request, not before it was sent.
        #expect(await eventually(within: 10) { daemon.requests.contains { $0.contains("/containers/slow/wait") } })
        task.cancel()
        let error = await #expect(throws: DockerError.self) { try await task.value }
        #expect(error?.code == .cancelled)
        try await client.shutdown()
        let after = await #expect(throws: DockerError.self) { _ = try await client.info() }
        #expect(after?.code == .cancelled)
    }

    @Test func aMissingSocketIsUnavailableQuickly() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-docker-\(UUID().uuidString).sock")
            .path
        let client = DockerClient(configuration: .init(socketPath: path))
        let started = ContinuousClock.now
        let error = await #expect(throws: DockerError.self) { _ = try await client.ping() }
        #expect(error?.code == .unavailable && error?.operation == "GET /_ping" && error?.isTransient == true)
        #expect(error?.message.contains(path) == true)
        let versioned = await #expect(throws: DockerError.self) { _ = try await client.listContainers() }
        #expect(versioned?.code == .unavailable)
        #expect(ContinuousClock.now - started < .seconds(1))
        try await client.shutdown()
    }

    @Test func aSocketNobodyListensOnIsUnavailable() async throws {
        let daemon = try FakeDaemon { _ in }
        daemon.stop()
        // Leave a socket file behind with no listener, as a crashed dockerd does.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(daemon.path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        close(fd)
        defer { unlink(daemon.path) }
        try #require(bound == 0)
        let client = DockerClient(configuration: .init(socketPath: daemon.path))
        let error = await #expect(throws: DockerError.self) { _ = try await client.ping() }
        #expect(error?.code == .unavailable)
        try await client.shutdown()
    }

    @Test func shutdownEndsAnOpenEventStream() async throws {
        let daemon = try FakeDaemon { connection in
            while let request = connection.readRequest() {
                if connection.answerVersion(request) { continue }
                connection.write(Self.streamHead)
                connection.pause(3)
                return
            }
        }
        defer { daemon.stop() }
        let client = Self.client(daemon)
        let stream = try await client.events()
        try await client.shutdown()
        let started = ContinuousClock.now
        let error = await #expect(throws: DockerError.self) { for try await _ in stream {} }
        #expect(error?.code == .cancelled)
        #expect(ContinuousClock.now - started < .seconds(1))
        try await client.shutdown()  // a second shutdown is harmless
    }
}
