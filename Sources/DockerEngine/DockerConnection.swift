import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP/1.1 connection to the daemon's unix socket: NIOHTTP1's codec plus ``HTTPExchangeHandler``.
///
/// A connection carries one request at a time; ``ConnectionPool`` makes sure of that.
final class DockerConnection: Sendable {
    let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    var isActive: Bool { channel.isActive }

    /// Connects to `socketPath`; failures (no socket, refused, permission) become `unavailable`, a slow connect
    /// becomes `timeout`.
    static func connect(
        group: any EventLoopGroup,
        socketPath: String,
        connectTimeout: TimeAmount
    ) async throws(DockerError) -> DockerConnection {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HTTPExchangeHandler())
                }
            }
        do {
            let channel = try await bootstrap.connect(unixDomainSocketPath: socketPath).get()
            return DockerConnection(channel: channel)
        } catch ChannelError.connectTimeout(let amount) {
            throw DockerError(
                .timeout,
                operation: "connect \(socketPath)",
                message: "no connection to \(socketPath) within \(Double(amount.nanoseconds) / 1e9) s"
            )
        } catch {
            throw DockerError(
                .unavailable,
                operation: "connect \(socketPath)",
                message: "cannot connect to the Docker socket \(socketPath): \(error)"
            )
        }
    }

    /// Sends `exchange` built by `make` around a fresh promise and waits for the collected answer.
    ///
    /// Cancelling the calling task closes the connection, which fails the exchange; the caller reports `cancelled`.
    func execute(
        operation: String,
        head: HTTPRequestHead,
        body: ByteBuffer?,
        readTimeout: TimeAmount?,
        limits: HTTPExchange.Limits
    ) async throws -> DockerResponse {
        let promise = channel.eventLoop.makePromise(of: DockerResponse.self)
        let exchange = HTTPExchange(
            operation: operation,
            head: head,
            body: body,
            readTimeout: readTimeout,
            limits: limits,
            sink: .collect(promise)
        )
        return try await send(exchange, awaiting: promise)
    }

    /// Sends a request whose 2xx answer is a newline-delimited stream: returns once the head arrived (or the whole
    /// answer, when it is an error), then hands every line to `line` and the end of the stream to `end`.
    func stream(
        operation: String,
        head: HTTPRequestHead,
        limits: HTTPExchange.Limits,
        line: @escaping @Sendable ([UInt8]) -> Void,
        end: @escaping @Sendable (DockerError?) -> Void
    ) async throws -> DockerResponse {
        let promise = channel.eventLoop.makePromise(of: DockerResponse.self)
        let exchange = HTTPExchange(
            operation: operation,
            head: head,
            body: nil,
            readTimeout: nil,
            limits: limits,
            sink: .lines(head: promise, line: line, end: end)
        )
        return try await send(exchange, awaiting: promise)
    }

    private func send(
        _ exchange: HTTPExchange,
        awaiting promise: EventLoopPromise<DockerResponse>
    ) async throws
        -> DockerResponse
    {
        let operation = exchange.operation
        // The handler acknowledges the write as soon as it owns the exchange; a failed write means it never saw it.
        channel.writeAndFlush(exchange).whenFailure { error in
            promise.fail(DockerError(.unavailable, operation: operation, message: "cannot send the request: \(error)"))
        }
        let channel = self.channel
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    func close() {
        channel.close(promise: nil)
    }
}
