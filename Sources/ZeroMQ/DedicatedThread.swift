#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts OS threads that are not part of Swift's cooperative pool, for work that blocks in libzmq.
///
/// Plain pthreads (Foundation's `Thread` would pull libFoundation and ICU into every process that links this module).
enum DedicatedThread {
    /// Stack of each thread: the reactor loop and the ZAP handler keep little on the stack.
    static let stackSize = 512 * 1024

    /// What the new thread runs, handed over through pthread's context pointer.
    private final class Start {
        let name: String
        let body: @Sendable () -> Void

        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// Starts a named thread running `body` and returns at once; the thread ends when `body` returns. The name is
    /// cut to the 15 bytes Linux keeps (`/proc/PID/task/TID/comm`, `top -H`). Traps when the system refuses a thread.
    static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        #if canImport(Glibc)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let result = pthread_create(
            &thread,
            &attributes,
            { raw in
                DedicatedThread.run(raw)
                return nil
            },
            context
        )
        guard result == 0 else {
            Unmanaged<Start>.fromOpaque(context).release()
            fatalError("cannot start the thread \(name): pthread_create returned \(result)")
        }
    }

    private static func run(_ context: UnsafeMutableRawPointer?) {
        guard let context else { return }
        let start = Unmanaged<Start>.fromOpaque(context).takeRetainedValue()
        nameCurrentThread(start.name)
        start.body()
    }

    /// Names the calling thread (best effort). Glibc's `pthread_setname_np` is not visible to Swift, so on Linux this
    /// writes what it would write: the first 15 bytes to `/proc/thread-self/comm`.
    private static func nameCurrentThread(_ name: String) {
        let bytes = Array(name.utf8.prefix(15))
        #if canImport(Glibc)
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        #else
        _ = pthread_setname_np((bytes + [0]).map { CChar(bitPattern: $0) })
        #endif
    }
}
