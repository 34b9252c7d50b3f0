import NIOCore

/// The first handler of a metrics connection: counts the bytes the peer sends and closes the connection once they
/// pass `maxBytes`, before any parser buffers them (huge request lines, header floods, bodies).
final class RequestSizeLimit: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let maxBytes: Int
    private let onExceeded: @Sendable () -> Void
    private var received = 0
    private var exceeded = false

    init(maxBytes: Int, onExceeded: @escaping @Sendable () -> Void) {
        self.maxBytes = maxBytes
        self.onExceeded = onExceeded
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !exceeded else { return }
        received += unwrapInboundIn(data).readableBytes
        guard received > maxBytes else {
            context.fireChannelRead(data)
            return
        }
        exceeded = true
        onExceeded()
        context.close(promise: nil)
    }
}
