/// "Something changed": the dispatcher fires it when an apply or teardown starts or ends, and the heartbeat loop
/// publishes at once. At most one pending signal is kept, so a burst of changes becomes one heartbeat.
public final class ChangeSignal: Sendable {
    let stream: AsyncStream<Void>
    private let sink: AsyncStream<Void>.Continuation

    public init() {
        (stream, sink) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    public func fire() { sink.yield() }

    public func finish() { sink.finish() }
}
