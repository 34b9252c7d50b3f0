import Foundation
import Synchronization

/// A bounded wait ran out.
struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Polls `condition` every 10 ms until it holds; false when `seconds` ran out (generous: machines are shared).
func eventually(_ seconds: Double = 15, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

/// Runs `body` and fails with ``TimedOut`` after `seconds`.
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

/// Consumes a stream in the background and keeps everything it delivered.
final class Recorder<Element: Sendable>: Sendable {
    private final class Storage: Sendable {
        let items = Mutex<[Element]>([])
    }

    private let storage = Storage()
    private let consumer: Task<Void, Never>

    init(_ stream: AsyncStream<Element>) {
        let storage = self.storage
        consumer = Task {
            for await item in stream { storage.items.withLock { $0.append(item) } }
        }
    }

    deinit { consumer.cancel() }

    var items: [Element] { storage.items.withLock { $0 } }

    /// The first item matching `predicate` within `seconds`, or `nil`.
    func first(seconds: Double = 15, where predicate: @Sendable (Element) -> Bool) async -> Element? {
        _ = await eventually(seconds) { items.contains(where: predicate) }
        return items.first(where: predicate)
    }

    /// Items matching `predicate` once there are at least `count` of them (or the time ran out).
    func all(count: Int, seconds: Double = 15, where predicate: @Sendable (Element) -> Bool) async -> [Element] {
        _ = await eventually(seconds) { items.filter(predicate).count >= count }
        return items.filter(predicate)
    }
}

/// A fresh directory under the system's temporary directory, removed by ``remove()``.
struct TemporaryDirectory: Sendable {
    let path: String

    init(_ prefix: String = "master-tests") throws {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let result = mkdtemp(&template) else { throw TimedOut(what: "mkdtemp") }
        path = String(cString: result)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
