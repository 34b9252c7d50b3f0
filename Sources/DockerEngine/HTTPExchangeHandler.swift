import NIOCore
import NIOHTTP1

/// One request and what to do with its answer, handed to ``HTTPExchangeHandler`` as an outbound message.
struct HTTPExchange: Sendable {
    enum Sink: Sendable {
        /// Collect the whole body and complete the promise at the end.
        case collect(EventLoopPromise<DockerResponse>)
        /// For a 2xx answer complete `head` at once (empty body) and pass each newline-delimited line to `line`, then
        /// call `end` (nil when the daemon ended the stream). A non-2xx answer is collected and completes `head`.
        case lines(
            head: EventLoopPromise<DockerResponse>,
            line: @Sendable ([UInt8]) -> Void,
            end: @Sendable (DockerError?) -> Void
        )
    }

    /// What a hostile or broken daemon may cost one exchange (docs/reliability.md#docker-hung).
    struct Limits: Sendable {
        /// From the request's write to the end of the answer (a stream: to its head); then the exchange fails with
        /// `timeout`, however the daemon trickles its bytes.
        var deadline: TimeAmount
        /// The most body bytes collected; more fails with `protocol`.
        var maximumBodyBytes: Int
        /// The longest line of a stream; longer fails the stream with `protocol`.
        var maximumLineBytes: Int
    }

    var operation: String
    var head: HTTPRequestHead
    var body: ByteBuffer?
    /// Longest silence allowed from the daemon before the request fails with `timeout`; nil waits forever.
    var readTimeout: TimeAmount?
    var limits: Limits
    var sink: Sink
}

/// Turns ``HTTPExchange``s into NIOHTTP1 request parts and the decoded response parts back into results, one
/// exchange at a time per connection (HTTP/1.1 without pipelining).
///
/// ```
///   idle ──write──▶ waiting ──.end──▶ idle       (keep-alive: the pool may reuse the connection)
///                      │ timeout / error / inactive
///                      ▼
///                    closed  (the sink has been failed; the channel is closing)
/// ```
final class HTTPExchangeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPExchange
    typealias OutboundOut = HTTPClientRequestPart

    private struct Pending {
        var exchange: HTTPExchange
        var head: HTTPResponseHead?
        var body: ByteBuffer?
        /// True once a 2xx head went to a `.lines` sink: body bytes are split into lines, not collected.
        var streaming = false
        var splitter: JSONLineSplitter

        init(exchange: HTTPExchange) {
            self.exchange = exchange
            splitter = JSONLineSplitter(maximumLineLength: exchange.limits.maximumLineBytes)
        }
    }

    private enum State {
        case idle
        case waiting(Pending)
        case closed
    }

    private var state: State = .idle
    private var timer: Scheduled<Void>?
    private var deadlineTimer: Scheduled<Void>?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        switch state {
        case .closed:
            Self.fail(
                exchange,
                streaming: false,
                DockerError(.unavailable, operation: exchange.operation, message: "the connection is closed")
            )
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        case .waiting:
            // The pool leases a connection to one caller at a time, so this is a bug in this module.
            preconditionFailure("HTTPExchangeHandler: a second request on a busy connection")
        case .idle:
            break
        }
        state = .waiting(Pending(exchange: exchange))
        armTimer(context: context)
        armDeadline(context: context, exchange)
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if let body = exchange.body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        // The exchange is ours now: from here on its sink is completed by this handler, whatever happens.
        promise?.succeed()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .waiting(var pending) = state else { return }
        armTimer(context: context)
        switch unwrapInboundIn(data) {
        case .head(let head):
            pending.head = head
            if case .lines(let headPromise, _, _) = pending.exchange.sink, (200..<300).contains(head.status.code) {
                pending.streaming = true
                // A quiet host sends no events for hours: the deadline covered the subscription, not the stream.
                cancelDeadline()
                headPromise.succeed(Self.response(head, body: nil))
            }
            state = .waiting(pending)
        case .body(var chunk):
            if pending.streaming, case .lines(_, let line, _) = pending.exchange.sink {
                do {
                    for text in try pending.splitter.append(chunk.readableBytesView) { line(text) }
                } catch {
                    state = .waiting(pending)
                    fail(context: context, error)
                    return
                }
            } else if (pending.body?.readableBytes ?? 0) + chunk.readableBytes
                > pending.exchange.limits.maximumBodyBytes
            {
                let limit = pending.exchange.limits.maximumBodyBytes
                state = .waiting(pending)
                fail(
                    context: context,
                    DockerError(
                        .protocol,
                        operation: "",
                        message: "the daemon's answer exceeded \(limit) bytes"
                    )
                )
                return
            } else if pending.body == nil {
                pending.body = chunk
            } else {
                pending.body!.writeBuffer(&chunk)
            }
            state = .waiting(pending)
        case .end:
            guard let head = pending.head else {
                fail(context: context, DockerError(.protocol, operation: "", message: "a response without a head"))
                return
            }
            cancelTimer()
            cancelDeadline()
            state = .idle
            switch pending.exchange.sink {
            case .collect(let promise):
                promise.succeed(Self.response(head, body: pending.body))
            case .lines(let headPromise, let line, let end):
                if pending.streaming {
                    if let last = pending.splitter.finish() { line(last) }
                    end(nil)
                } else {
                    headPromise.succeed(Self.response(head, body: pending.body))
                }
            }
            if !head.isKeepAlive || pending.streaming {
                state = .closed
                context.close(promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failPending(DockerError(.unavailable, operation: "", message: "the daemon closed the connection"))
        state = .closed
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failPending(DockerError(.unavailable, operation: "", message: "the connection was torn down"))
        state = .closed
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let mapped: DockerError
        if let docker = error as? DockerError {
            mapped = docker
        } else if let parser = error as? HTTPParserError, parser == .invalidEOFState {
            // The peer closed the connection in the middle of a response: the daemon went away.
            mapped = DockerError(.unavailable, operation: "", message: "the daemon closed the connection mid-response")
        } else if error is HTTPParserError {
            mapped = DockerError(.protocol, operation: "", message: "malformed HTTP from the daemon: \(error)")
        } else {
            mapped = DockerError(.unavailable, operation: "", message: "\(error)")
        }
        fail(context: context, mapped)
    }

    /// Fails the pending exchange (if any) and closes the channel, which can no longer be trusted.
    private func fail(context: ChannelHandlerContext, _ error: DockerError) {
        failPending(error)
        state = .closed
        context.close(promise: nil)
    }

    private func failPending(_ error: DockerError) {
        cancelTimer()
        cancelDeadline()
        guard case .waiting(let pending) = state else { return }
        state = .idle
        var error = error
        if error.operation.isEmpty { error.operation = pending.exchange.operation }
        Self.fail(pending.exchange, streaming: pending.streaming, error)
    }

    private static func fail(_ exchange: HTTPExchange, streaming: Bool, _ error: DockerError) {
        switch exchange.sink {
        case .collect(let promise):
            promise.fail(error)
        case .lines(let headPromise, _, let end):
            if streaming { end(error) } else { headPromise.fail(error) }
        }
    }

    private func armTimer(context: ChannelHandlerContext) {
        cancelTimer()
        guard case .waiting(let pending) = state, let timeout = pending.exchange.readTimeout else { return }
        let operation = pending.exchange.operation
        let seconds = Double(timeout.nanoseconds) / 1e9
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            handler.fail(
                context: context,
                DockerError(.timeout, operation: operation, message: "no answer from the daemon within \(seconds) s")
            )
        }
    }

    private func armDeadline(context: ChannelHandlerContext, _ exchange: HTTPExchange) {
        cancelDeadline()
        let operation = exchange.operation
        let seconds = Double(exchange.limits.deadline.nanoseconds) / 1e9
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadlineTimer = context.eventLoop.scheduleTask(in: exchange.limits.deadline) {
            let (handler, context) = loopBound.value
            handler.deadlineTimer = nil
            handler.fail(
                context: context,
                DockerError(.timeout, operation: operation, message: "the daemon did not answer within \(seconds) s")
            )
        }
    }

    private func cancelDeadline() {
        deadlineTimer?.cancel()
        deadlineTimer = nil
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    private static func response(_ head: HTTPResponseHead, body: ByteBuffer?) -> DockerResponse {
        DockerResponse(
            status: Int(head.status.code),
            headers: head.headers.map { ($0.name, $0.value) },
            body: body.map { Array($0.readableBytesView) } ?? [],
            keepAlive: head.isKeepAlive
        )
    }
}
