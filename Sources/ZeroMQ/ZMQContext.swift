import CZeroMQ
import Synchronization

/// Owns one libzmq context (`zmq_ctx_new`): the I/O threads and the inproc namespace that sockets, the reactor, the
/// ZAP handler and socket monitors share.
///
/// Thread safety: libzmq's context functions are thread-safe, and the Swift state (`state`) is only touched inside
/// its `Mutex`; that is the invariant behind `@unchecked Sendable` (the raw pointer itself is never mutated).
/// Every socket keeps its context alive, so the context is only freed after all of its sockets are closed.
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    private let state = Mutex(State())

    private struct State {
        var terminated = false
        var zapHandlerRunning = false
        var nextInprocId = 0
    }

    /// Creates a context; by default checks that this libzmq supports CURVE (`zmq_has("curve")`) and throws
    /// ``ZMQError/Code/curveUnavailable`` when it does not, so a misbuilt library fails at start-up, not at the first
    /// handshake.
    public init(requireCurve: Bool = true, ioThreads: Int32 = 1) throws(ZMQError) {
        if requireCurve { try ZMQContext.checkCurve() }
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        if ioThreads != 1 && zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads) != 0 {
            let error = ZMQError.last("zmq_ctx_set ZMQ_IO_THREADS")
            zmq_ctx_term(handle)
            throw error
        }
        self.handle = handle
    }

    deinit {
        // All sockets hold a reference to their context, so none is open here and this returns at once.
        if !state.withLock({ $0.terminated }) {
            while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
        }
    }

    /// Whether this libzmq supports CURVE (`zmq_has("curve")`).
    public static var hasCurve: Bool { zmq_has("curve") == 1 }

    /// Throws ``ZMQError/Code/curveUnavailable`` unless this libzmq supports CURVE.
    public static func checkCurve() throws(ZMQError) {
        guard hasCurve else {
            throw ZMQError(
                .curveUnavailable,
                operation: "zmq_has(\"curve\")",
                message: "libzmq \(version) was built without CURVE support (needs libsodium); refusing to start"
            )
        }
    }

    /// The libzmq version, e.g. `"4.3.4"`.
    public static var version: String {
        var major: Int32 = 0
        var minor: Int32 = 0
        var patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }

    /// `zmq_ctx_shutdown`: makes every blocking call on this context's sockets return `ETERM` so their owners close
    /// them. Does not block and may be called from any thread, any number of times.
    public func shutdown() {
        guard !state.withLock({ $0.terminated }) else { return }
        zmq_ctx_shutdown(handle)
    }

    /// `zmq_ctx_term`: shuts the context down and blocks until every socket is closed and its linger has run out.
    /// Call it only after the owners of all sockets (reactors, the ZAP handler) have stopped, and never from Swift's
    /// cooperative pool when sockets may still linger: use ``terminateOffPool()`` there.
    public func terminate() {
        let first = state.withLock { state -> Bool in
            defer { state.terminated = true }
            return !state.terminated
        }
        guard first else { return }
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }

    /// ``terminate()`` on a dedicated thread, suspending (not blocking) the calling task until it returns.
    public func terminateOffPool() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DedicatedThread.start(name: "zmq-ctx-term") {
                self.terminate()
                continuation.resume()
            }
        }
    }

    /// True once ``terminate()`` was called.
    public var isTerminated: Bool { state.withLock { $0.terminated } }

    /// A process-unique inproc endpoint for internal plumbing (monitors), e.g. `inproc://decnet.monitor.3`.
    func makeInprocEndpoint(_ prefix: String) -> String {
        let id = state.withLock { state -> Int in
            state.nextInprocId += 1
            return state.nextInprocId
        }
        return "inproc://decnet.\(prefix).\(id)"
    }

    /// Whether a ZAP handler is bound in this context; CURVE server sockets refuse to bind without one.
    public var hasZAPHandler: Bool { state.withLock { $0.zapHandlerRunning } }

    func setZAPHandlerRunning(_ running: Bool) {
        state.withLock { $0.zapHandlerRunning = running }
    }
}
