import TestSupport
import Testing
import ZeroMQ

/// The socket thread's own rules (queueing, closing, errors, shutdown), over inproc without CURVE.
@Suite(.serialized) struct SocketThreadBehaviourTests {
    /// A context and a socket thread, both shut down after `body`, whatever happens.
    func withThread(_ body: (SocketThread) async throws -> Void) async throws {
        let context = try ZMQContext()
        let thread = try SocketThread(context: context, name: "zmq-test-behaviour")
        do {
            try await body(thread)
        } catch {
            await thread.shutdown()
            await context.terminateOffPool()
            throw error
        }
        await thread.shutdown()
        await context.terminateOffPool()
    }

    @Test func performRunsOnTheSocketAndPassesErrorsBack() async throws {
        try await withThread { thread in
            let socket = try await thread.open(.dealer, linger: 0) { socket throws(ZMQError) in
                try socket.setOption(.routingId, Array("me".utf8))
            }
            #expect(
                try await socket.perform { socket throws(ZMQError) in try socket.option(.routingId) }
                    == Array("me".utf8)
            )
            #expect(try await socket.perform { socket throws(ZMQError) in try socket.option(.linger) } == 0)
            do {
                try await socket.perform { socket throws(ZMQError) in try socket.connect("nosuch://x") }
                Issue.record("connected to nonsense")
            } catch let error as ZMQError {
                #expect(error.code == .protocolNotSupported)
            }
            await socket.close()
            await socket.close()
            do {
                _ = try await socket.perform { _ in 1 }
                Issue.record("performed on a closed socket")
            } catch let error as ZMQError {
                #expect(error.code == .socketClosed)
            }
            do {
                _ = try await socket.sendConfirmed(ZMQMessage("x"))
                Issue.record("sent on a closed socket")
            } catch let error as ZMQError {
                #expect(error.code == .socketClosed)
            }
            #expect(socket.send(ZMQMessage("dropped")))  // queued, then dropped: the thread still runs
        }
    }

    @Test func aFailingConfigureClosesTheSocketAndTheThreadGoesOn() async throws {
        try await withThread { thread in
            do {
                _ = try await thread.open(.router, linger: 0, monitored: true) { socket throws(ZMQError) in
                    try socket.bind("tcp://127.0.0.1:notaport")
                }
                Issue.record("opened with a bad endpoint")
            } catch let error as ZMQError {
                #expect(error.code == .invalidArgument, "\(error)")
            }
            #expect(thread.isRunning)
            let fine = try await thread.open(.router, linger: 0) { socket throws(ZMQError) in
                try socket.bind("inproc://still-working")
            }
            #expect(try await fine.lastEndpoint() == "inproc://still-working")
        }
    }

    @Test func blockedSendsQueueInOrderUntilThePeerAppears() async throws {
        try await withThread { thread in
            let dealer = try await thread.open(.dealer, linger: 0) { socket throws(ZMQError) in
                try socket.setOption(.immediate, true)  // no queueing inside libzmq before a peer is there
                try socket.connect("inproc://late-peer")
            }
            for index in 0..<5 { #expect(dealer.send(ZMQMessage("m\(index)"))) }
            let router = try await thread.open(.router, linger: 0) { socket throws(ZMQError) in
                try socket.bind("inproc://late-peer")
            }
            let received = Recorder(router.messages)
            #expect(await received.wait { $0.count == 5 })
            #expect(received.items.map { $0.string(at: 1) } == ["m0", "m1", "m2", "m3", "m4"])
        }
    }

    @Test func nonQueueingSocketsReportWouldBlockAndTheBacklogIsBounded() async throws {
        try await withThread { thread in
            let direct = try await thread.open(SocketSetup(.dealer, linger: 0, queueWhenBlocked: false)) { _ in }
            #expect(try await direct.sendConfirmed(ZMQMessage("x")) == .wouldBlock)

            let bounded = try await thread.open(SocketSetup(.dealer, linger: 0, backlogLimit: 2)) { _ in }
            bounded.send(ZMQMessage("1"))
            bounded.send(ZMQMessage("2"))
            do {
                _ = try await bounded.sendConfirmed(ZMQMessage("3"))
                Issue.record("the backlog grew past its limit")
            } catch let error as ZMQError {
                #expect(error.code == .resourceExhausted)
            }
        }
    }

    @Test func closingFailsTheSendsStillWaiting() async throws {
        try await withThread { thread in
            let dealer = try await thread.open(.dealer, linger: 0) { _ in }  // no peer: every send waits
            async let waiting = dealer.sendConfirmed(ZMQMessage("never"))
            // Let the send reach the thread before closing (close is queued behind it anyway).
            await dealer.close()
            do {
                _ = try await waiting
                Issue.record("a send to a closed socket succeeded")
            } catch let error as ZMQError {
                #expect(error.code == .socketClosed)
            }
        }
    }

    @Test func routerMandatoryErrorsReachSendConfirmed() async throws {
        try await withThread { thread in
            let router = try await thread.open(.router, linger: 0) { socket throws(ZMQError) in
                try socket.setOption(.routerMandatory, true)
            }
            do {
                _ = try await router.sendConfirmed(ZMQMessage("nobody", "hello"))
                Issue.record("sent to an unknown peer")
            } catch let error as ZMQError {
                #expect(error.code == .hostUnreachable)
            }
        }
    }

    @Test func monitorStreamEndsWithMonitorStoppedWhenTheSocketCloses() async throws {
        try await withThread { thread in
            let socket = try await thread.open(.router, linger: 0, monitored: true) { socket throws(ZMQError) in
                try socket.bind("tcp://127.0.0.1:*")
            }
            let events = Recorder(socket.events)
            #expect(await events.first { $0.kind == .listening } != nil)
            await socket.close()
            #expect(await events.waitUntilFinished())
            #expect(events.items.last?.kind == .monitorStopped)

            let unmonitored = try await thread.open(.dealer, linger: 0) { _ in }
            #expect(await unmonitored.events.first { _ in true } == nil)  // ends at once
        }
    }

    @Test func contextShutdownStopsTheThreadAndEndsItsStreams() async throws {
        let context = try ZMQContext()
        let thread = try SocketThread(context: context)
        let socket = try await thread.open(.pull, linger: 0, monitored: true) { socket throws(ZMQError) in
            try socket.bind("inproc://eterm")
        }
        let messages = Recorder(socket.messages)
        let events = Recorder(socket.events)
        context.shutdown()  // every blocking call now fails with ETERM: the thread's normal way out
        try await within(10, "the thread to stop on ETERM") { await thread.shutdown() }
        #expect(!thread.isRunning)
        #expect(await messages.waitUntilFinished())
        #expect(await events.waitUntilFinished())
        do {
            _ = try await thread.open(.pull, linger: 0) { _ in }
            Issue.record("opened a socket on a stopped thread")
        } catch {
            #expect(error.code == .reactorStopped)
        }
        await context.terminateOffPool()
    }
}
