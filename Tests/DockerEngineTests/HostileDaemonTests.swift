import DecnetJSON
import Foundation
import LiveTestSupport
import Synchronization
import TestSupport
import Testing

@testable import DockerEngine

/// The client against a daemon that hangs, trickles, or never stops talking (docs/reliability.md#docker-hung): every
/// request ends by its deadline, and no answer costs more than the configured caps.
@Suite struct HostileDaemonTests {
    static func client(
        _ daemon: FakeDaemon,
        readTimeout: Duration = .seconds(60),
        requestTimeout: Duration = .seconds(60),
        maximumResponseBytes: Int = 16 << 20,
        maximumStreamLineBytes: Int = 1 << 20
    ) -> DockerClient {
        DockerClient(
            configuration: .init(
                socketPath: daemon.path,
                readTimeout: readTimeout,
                requestTimeout: requestTimeout,
                maximumResponseBytes: maximumResponseBytes,
                maximumStreamLineBytes: maximumStreamLineBytes
            )
        )
    }

    static let chunkedHead = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"

    /// Sends chunks of `piece` until the client hangs up; returns the bytes it managed to send.
    static func flood(_ connection: FakeDaemon.Connection, _ piece: String) -> Int {
        let chunk = Array((String(piece.utf8.count, radix: 16) + "\r\n" + piece + "\r\n").utf8)
        var sent = 0
        while connection.write(bytes: chunk) { sent += chunk.count }
        return sent
    }

    @Test func aDaemonThatAcceptsButNeverAnswersFailsAtTheDeadline() async throws {
        let daemon = try FakeDaemon { connection in
            while connection.readRequest() != nil {}  // reads every request, answers none
        }
        defer { daemon.stop() }
        let client = Self.client(daemon, requestTimeout: .milliseconds(500))
        let started = ContinuousClock.now
        let error = await #expect(throws: DockerError.self) { _ = try await client.ping() }
        #expect(error?.code == .timeout)
        #expect(ContinuousClock.now - started < .seconds(3))
        try await client.shutdown()
    }

    @Test func aTricklingDaemonCannotKeepARequestAliveBeyondItsDeadline() async throws {
        // One body byte every 100 ms: the read timeout (1 s) never fires, the deadline (1.5 s) does.
        let daemon = try FakeDaemon { connection in
            guard connection.readRequest() != nil, connection.write(Self.chunkedHead) else { return }
            for _ in 0..<1000 {
                guard connection.write("1\r\nO\r\n") else { return }
                connection.pause(0.1)
            }
        }
        defer { daemon.stop() }
        let client = Self.client(daemon, readTimeout: .seconds(1), requestTimeout: .milliseconds(1500))
        let started = ContinuousClock.now
        let error = await #expect(throws: DockerError.self) { _ = try await client.ping() }
        #expect(error?.code == .timeout)
        #expect(error?.message.contains("did not answer within 1.5 s") == true)
        let took = ContinuousClock.now - started
        #expect(took >= .seconds(1.4) && took < .seconds(4))
        try await client.shutdown()
    }

    @Test func anEventSubscriptionWhoseHeadNeverComesFailsAtTheDeadline() async throws {
        let daemon = try FakeDaemon { connection in
            while let request = connection.readRequest() {
                if connection.answerVersion(request) { continue }
            }
        }
        defer { daemon.stop() }
        let client = Self.client(daemon, requestTimeout: .milliseconds(500))
        let error = await #expect(throws: DockerError.self) { _ = try await client.events() }
        #expect(error?.code == .timeout)
        try await client.shutdown()
    }

    @Test func anEndlessBodyIsAProtocolErrorAtTheCap() async throws {
        let sent = Mutex(0)
        let daemon = try FakeDaemon { connection in
            while let request = connection.readRequest() {
                if connection.answerVersion(request) { continue }
                _ = connection.write(Self.chunkedHead)
                let bytes = Self.flood(connection, "[" + String(repeating: "{\"Id\":\"x\"},", count: 1500))
                sent.withLock { $0 = bytes }
                return
            }
        }
        defer { daemon.stop() }
        let cap = 1 << 20
        let client = Self.client(daemon, maximumResponseBytes: cap)
        let error = await #expect(throws: DockerError.self) { _ = try await client.listContainers() }
        #expect(error?.code == .protocol)
        #expect(error?.message == "the daemon's answer exceeded \(cap) bytes")
        #expect(error?.operation == "GET /containers/json")
        // What the daemon got out before the client hung up: the cap plus what the socket buffers hold (the flood
        // records its total once a write fails, i.e. once the client closed).
        #expect(await eventually(within: 10) { sent.withLock { $0 } > cap })
        let total = sent.withLock { $0 }
        print("HOSTILE-MEASURE endless body: daemon sent \(total) bytes before the client closed (cap \(cap))")
        #expect(total < cap + (8 << 20))
        try await client.shutdown()
    }

    @Test func anEndlessEventLineIsAProtocolErrorAtTheCap() async throws {
        let daemon = try FakeDaemon { connection in
            while let request = connection.readRequest() {
                if connection.answerVersion(request) { continue }
                _ = connection.write(Self.chunkedHead)
                _ = Self.flood(connection, "{\"Type\":\"container\"," + String(repeating: " ", count: 16_000))
                return
            }
        }
        defer { daemon.stop() }
        let client = Self.client(daemon, maximumStreamLineBytes: 64 << 10)
        let stream = try await client.events()
        let error = await #expect(throws: DockerError.self) {
            for try await _ in stream {}
        }
        #expect(error?.code == .protocol)
        #expect(error?.message.contains("exceeded \(64 << 10) bytes") == true)
        try await client.shutdown()
    }
}
