import Foundation
import TestSupport
import Testing

@testable import ZeroMQ

/// The pthreads behind `SocketThread` and the ZAP handler, and the allow-list's listing error text, now that the
/// module no longer links Foundation.
@Suite struct DedicatedThreadTests {
    /// Starts a thread and returns what it saw: its name in `/proc`, and whether it ran off the calling thread.
    static func observe(name: String) async -> (comm: String, separate: Bool) {
        let caller = pthread_self()
        return await withCheckedContinuation { continuation in
            DedicatedThread.start(name: name) {
                let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
                continuation.resume(returning: (comm, pthread_equal(caller, pthread_self()) == 0))
            }
        }
    }

    @Test func runsTheBodyOnItsOwnNamedThread() async {
        let seen = await Self.observe(name: "zmq-short")
        #expect(seen.comm == "zmq-short\n")
        #expect(seen.separate)
    }

    @Test func longNamesKeepTheirFirst15Bytes() async {
        let seen = await Self.observe(name: "decnet-agent-link")
        #expect(seen.comm == "decnet-agent-li\n")
    }

    @Test func manyThreadsAllRunAndEnd() async {
        let count = Locked(0)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<32 {
                group.addTask {
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        DedicatedThread.start(name: "t\(index)") {
                            count.withLock { $0 += 1 }
                            done.resume()
                        }
                    }
                }
            }
        }
        #expect(count.value == 32)
    }
}
