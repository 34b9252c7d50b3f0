import Foundation

/// Starts OS threads that are not part of Swift's cooperative pool, for work that blocks in libzmq.
enum DedicatedThread {
    /// Starts a named thread running `body` and returns at once; the thread ends when `body` returns.
    static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.stackSize = 512 * 1024
        thread.start()
    }
}
