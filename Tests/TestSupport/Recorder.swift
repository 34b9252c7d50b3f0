import Synchronization

/// Consumes a stream in the background and keeps everything it delivered, so a test can wait for a condition with
/// a bound, or check that something did not happen, without ending the stream. Waits poll every 10 ms and give up
/// after 15 s unless told otherwise (generous: the machines are shared).
public final class Recorder<Element: Sendable>: Sendable {
    private final class Storage: Sendable {
        let state = Mutex<(items: [Element], finished: Bool)>(([], false))
    }

    private let storage = Storage()
    /// Owned here and cancelled in `deinit`.
    private let consumer: Task<Void, Never>

    public init(_ stream: AsyncStream<Element>) {
        let storage = self.storage
        consumer = Task {
            for await item in stream { storage.state.withLock { $0.items.append(item) } }
            storage.state.withLock { $0.finished = true }
        }
    }

    deinit { consumer.cancel() }

    /// Everything delivered so far, in order.
    public var items: [Element] { storage.state.withLock { $0.items } }
    /// Whether the stream has ended.
    public var finished: Bool { storage.state.withLock { $0.finished } }

    /// Waits until `condition` holds for the items so far; false when `seconds` ran out.
    public func wait(seconds: Double = 15, until condition: ([Element]) -> Bool) async -> Bool {
        await eventually(within: seconds, every: .milliseconds(10)) { condition(items) }
    }

    /// The first item matching `predicate` within `seconds`, or `nil`.
    public func first(seconds: Double = 15, where predicate: (Element) -> Bool) async -> Element? {
        _ = await wait(seconds: seconds) { $0.contains(where: predicate) }
        return items.first(where: predicate)
    }

    /// Items matching `predicate` once there are at least `count` of them (or the time ran out).
    public func all(count: Int, seconds: Double = 15, where predicate: (Element) -> Bool) async -> [Element] {
        _ = await wait(seconds: seconds) { $0.filter(predicate).count >= count }
        return items.filter(predicate)
    }

    /// Waits until the stream has ended (within `seconds`).
    public func waitUntilFinished(seconds: Double = 15) async -> Bool {
        await eventually(within: seconds, every: .milliseconds(10)) { finished }
    }
}
