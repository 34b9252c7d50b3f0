import Logging
import Master
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization

/// The bounds of the metrics endpoint (docs/metrics.md#endpoint): every peer that reaches it may be hostile.
public struct MetricsEndpointLimits: Sendable, Hashable {
    /// Connections served at once; one more is closed as soon as it is accepted.
    public var maxConnections = 8
    /// Bytes a connection may send in all (request line, headers, any body); past that it is closed.
    public var maxRequestBytes = 8 * 1024
    /// A connection's whole life, from accept to the last byte of the answer (slow or silent peers).
    public var connectionDeadline: TimeAmount = .seconds(5)

    public init() {}
}

/// `GET /metrics` over HTTP/1.1, one request per connection, answered with the Prometheus text format of
/// `registry` after `refresh` has brought the gauges up to date. Another path gets 404, another method on
/// `/metrics` 405; a request that cannot be parsed gets 400 (NIOHTTP1's error handler).
public final class MetricsHTTPServer: Service, Sendable {
    public enum RefusalReason: String, Sendable, CaseIterable {
        /// Accepted while ``MetricsEndpointLimits/maxConnections`` were open.
        case overCapacity = "over_capacity"
        /// Sent more than ``MetricsEndpointLimits/maxRequestBytes``.
        case oversize
        /// Still open at ``MetricsEndpointLimits/connectionDeadline``.
        case deadline
    }

    let address: MetricsAddress
    let limits: MetricsEndpointLimits
    let registry: PrometheusCollectorRegistry
    let refresh: @Sendable () async -> Void
    let onBound: @Sendable (SocketAddress) -> Void
    let logger: Logger
    let refused: [RefusalReason: Prometheus.Counter]
    private let open = Atomic<Int>(0)

    /// Connections holding a slot now (for tests that must know the slots are taken before they probe).
    public var openConnections: Int { open.load(ordering: .relaxed) }

    public init(
        address: MetricsAddress,
        registry: PrometheusCollectorRegistry,
        limits: MetricsEndpointLimits = MetricsEndpointLimits(),
        logger: Logger,
        onBound: @escaping @Sendable (SocketAddress) -> Void = { _ in },
        refresh: @escaping @Sendable () async -> Void
    ) {
        self.address = address
        self.registry = registry
        self.limits = limits
        self.logger = logger
        self.onBound = onBound
        self.refresh = refresh
        let name = MetricName.endpointRefused
        refused = Dictionary(
            uniqueKeysWithValues: RefusalReason.allCases.map {
                ($0, registry.makeCounter(descriptor: name.descriptor, labels: [("reason", $0.rawValue)]))
            }
        )
    }

    public func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            try await serve(on: group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    private func serve(on group: MultiThreadedEventLoopGroup) async throws {
        let limits = self.limits
        let oversize = refused[.oversize]!
        let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 32)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: address.host, port: address.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            RequestSizeLimit(maxBytes: limits.maxRequestBytes) { oversize.increment() }
                        )
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                            withPipeliningAssistance: false,
                            withErrorHandling: true
                        )
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                            wrappingChannelSynchronously: channel
                        )
                    }
                }
        } catch {
            throw MetricsEndpointError(description: "metrics endpoint: cannot listen on \(address): \(error)")
        }
        let bound = server.channel.localAddress
        if let bound { onBound(bound) }
        logger.notice("metrics endpoint listening", metadata: ["address": "\(bound.map { "\($0)" } ?? "\(address)")"])
        let stopping = Atomic<Bool>(false)
        try await withGracefulShutdownHandler {
            do {
                try await withThrowingDiscardingTaskGroup { tasks in
                    try await server.executeThenClose { connections in
                        for try await connection in connections {
                            guard admit() else {
                                refused[.overCapacity]!.increment()
                                // Through executeThenClose: it finishes the writer, which must not be dropped open.
                                try? await connection.executeThenClose { _, _ in }
                                continue
                            }
                            tasks.addTask {
                                await self.answer(connection)
                                self.open.subtract(1, ordering: .relaxed)
                            }
                        }
                    }
                }
            } catch  where stopping.load(ordering: .relaxed) {
                // The listening socket was closed under the accept loop: the normal way out.
            }
        } onGracefulShutdown: {
            stopping.store(true, ordering: .relaxed)
            server.channel.close(promise: nil)
        }
        logger.info("metrics endpoint stopped")
    }

    /// Takes a connection slot when one is free.
    private func admit() -> Bool {
        let now = open.add(1, ordering: .relaxed).newValue
        guard now > limits.maxConnections else { return true }
        open.subtract(1, ordering: .relaxed)
        return false
    }

    /// One request, one answer, then the connection is closed; the deadline closes it sooner.
    private func answer(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        let channel = connection.channel
        let late = refused[.deadline]!
        let deadline = channel.eventLoop.scheduleTask(in: limits.connectionDeadline) {
            late.increment()
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let value):
                        head = value
                    case .body:
                        continue  // read and dropped; RequestSizeLimit bounds it
                    case .end:
                        guard let head else { return }
                        let response = await self.response(to: head)
                        try await outbound.write(.head(response.head))
                        try await outbound.write(.body(.byteBuffer(response.body)))
                        try await outbound.write(.end(nil))
                        return
                    }
                }
            }
        } catch {
            logger.debug("metrics connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func response(to request: HTTPRequestHead) async -> (head: HTTPResponseHead, body: ByteBuffer) {
        let path = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        var headers = HTTPHeaders([("Connection", "close")])
        let status: HTTPResponseStatus
        let body: ByteBuffer
        if path != "/metrics" {
            status = .notFound
            body = ByteBuffer(string: "not found: the metrics are at GET /metrics\n")
        } else if request.method != .GET {
            status = .methodNotAllowed
            headers.add(name: "Allow", value: "GET")
            body = ByteBuffer(string: "method not allowed: GET /metrics\n")
        } else {
            await refresh()
            status = .ok
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
            body = ByteBuffer(bytes: registry.emitToBuffer())
        }
        if status != .ok { headers.add(name: "Content-Type", value: "text/plain; charset=utf-8") }
        headers.add(name: "Content-Length", value: "\(body.readableBytes)")
        return (HTTPResponseHead(version: .http1_1, status: status, headers: headers), body)
    }
}

/// The metrics endpoint could not start.
public struct MetricsEndpointError: Error, Sendable, CustomStringConvertible {
    public var description: String
}
