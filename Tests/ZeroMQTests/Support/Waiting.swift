import Foundation
import Synchronization

/// A bounded wait ran out.
struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Runs `body` and fails with ``TimedOut`` after `seconds` (generous: the machines are shared and slow).
func within<T: Sendable>(
    _ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            throw TimedOut(what: what)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// The next element of `stream` within `seconds`; throws when the stream ends or the time runs out.
func next<Element: Sendable>(
    _ stream: AsyncStream<Element>, within seconds: Double = 10, _ what: String
) async throws -> Element {
    let element = try await within(seconds, what) { await stream.first { _ in true } }
    guard let element else { throw TimedOut(what: "\(what) (the stream ended)") }
    return element
}

/// Consumes a stream in the background and keeps everything it delivered, so a test can wait for a condition with
/// a bound, or check that something did not happen, without ending the stream.
final class Recorder<Element: Sendable>: Sendable {
    private final class Storage: Sendable {
        let state = Mutex<(items: [Element], finished: Bool)>(([], false))
    }

    private let storage = Storage()
    private let consumer: Task<Void, Never>

    init(_ stream: AsyncStream<Element>) {
        let storage = self.storage
        consumer = Task {
            for await item in stream { storage.state.withLock { $0.items.append(item) } }
            storage.state.withLock { $0.finished = true }
        }
    }

    deinit { consumer.cancel() }

    var items: [Element] { storage.state.withLock { $0.items } }
    var finished: Bool { storage.state.withLock { $0.finished } }

    /// Waits (polling every 5 ms) until `condition` holds for the items so far; false when `seconds` ran out.
    func wait(seconds: Double = 10, until condition: ([Element]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition(items) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition(items)
    }

    /// The first item matching `predicate` within `seconds`, or `nil`.
    func first(seconds: Double = 10, where predicate: (Element) -> Bool) async -> Element? {
        _ = await wait(seconds: seconds) { $0.contains(where: predicate) }
        return items.first(where: predicate)
    }

    /// Waits until the stream has ended (within `seconds`).
    func waitUntilFinished(seconds: Double = 10) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if finished { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return finished
    }
}

/// A fresh directory under the system's temporary directory, removed by ``remove()``.
struct TemporaryDirectory: Sendable {
    let path: String

    init(_ prefix: String = "zmq-tests") throws {
        var template = Array("\(NSTemporaryDirectory())/\(prefix).XXXXXX".utf8CString)
        guard let result = mkdtemp(&template) else { throw TimedOut(what: "mkdtemp") }
        path = String(cString: result)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
