import DecnetJSON
import DockerEngine
import DockerRuntime
import LiveTestSupport
import Logging
import TestSupport
import Testing
import Topology

/// Retries are logged at notice (docs/architecture.md#logs), against a fake daemon whose first container list fails
/// transiently. Needs no daemon.
@Suite struct RetryLogTests {
    @Test func aRetriedDockerOperationIsLoggedAtNotice() async throws {
        let lists = Locked(0)
        let daemon = try FakeDaemon { connection in
            while let request = connection.readRequest() {
                if connection.answerVersion(request) { continue }
                if request.hasPrefix("GET /_ping ") {
                    connection.respond("200 OK", "OK", headers: ["Content-Type: text/plain"])
                } else if request.contains("/containers/json") {
                    let n = lists.withLock { n -> Int in
                        n += 1
                        return n
                    }
                    if n == 1 {
                        connection.respond("500 Internal Server Error", #"{"message":"connection reset by peer"}"#)
                    } else {
                        connection.respond("200 OK", "[]")
                    }
                } else {
                    connection.respond("404 Not Found", #"{"message":"not expected here"}"#)
                }
            }
        }
        defer { daemon.stop() }
        let capture = LogCapture()
        let hooked = Locked<[Int]>([])
        let client = DockerClient(configuration: .init(socketPath: daemon.path, requestTimeout: .seconds(5)))
        let runtime = DockerTopologyRuntime(
            client: client,
            configuration: .init(
                stateDirectory: "/nonexistent",
                retry: RetryPolicy(delays: [.milliseconds(10)]),
                onRetry: { retry in hooked.withLock { $0.append(retry.attempt) } }
            ),
            logger: capture.logger("test.runtime")
        )

        let ports = try await runtime.publishedHostPorts(topologyIDs: ["t1"])
        try await client.shutdown()

        #expect(ports.isEmpty && lists.value == 2)
        let notices = capture.entries(.notice, "retrying a Docker operation")
        #expect(notices.count == 1, "\(capture.lines)")
        let notice = try #require(notices.first)
        #expect(notice.metadata["operation"] == "list running containers")
        #expect(notice.metadata["attempt"] == "1")
        #expect(notice.metadata["delay"] == "\(Duration.milliseconds(10))")
        #expect(notice.metadata["error"]?.contains("connection reset by peer") == true)
        // The configuration's own hook still sees every retry.
        #expect(hooked.value == [1])
    }
}
