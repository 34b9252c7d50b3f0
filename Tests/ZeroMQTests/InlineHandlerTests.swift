import Foundation
import Synchronization
import Testing
import ZeroMQ

/// An ``InlineHandler`` relaying between two contexts served by one socket thread, over inproc.
@Suite(.serialized) struct InlineHandlerTests {
    /// Relays messages whose first frame starts with "relay" to `target`, hands the rest on to the stream, and notes
    /// the thread each call ran on (`pthread_self`) and what every send returned.
    final class Relay: InlineHandler {
        let target: SocketHandle
        let stranger: SocketHandle?
        let seen = Mutex<(threads: Set<UInt>, sends: [Bool], strangerSends: [Bool])>(([], [], []))

        init(target: SocketHandle, stranger: SocketHandle? = nil) {
            self.target = target
            self.stranger = stranger
        }

        func handle(_ message: ZMQMessage, sockets: InlineSockets) -> ZMQMessage? {
            let thread = UInt(pthread_self())
            guard message.string(at: 0).hasPrefix("relay") else {
                seen.withLock { _ = $0.threads.insert(thread) }
                return message
            }
            let sent = sockets.send(message, on: target)
            let strangerSent = stranger.map { sockets.send(message, on: $0) }
            seen.withLock {
                $0.threads.insert(thread)
                $0.sends.append(sent)
                if let strangerSent { $0.strangerSends.append(strangerSent) }
            }
            return nil
        }
    }

    @Test func relaysOnTheSocketThreadToASocketOfAnotherContext() async throws {
        let agents = try ZMQContext()
        let monitors = try ZMQContext()
        let thread = try SocketThread(context: agents, name: "zmq-test-inline")
        let elsewhere = try SocketThread(context: monitors, name: "zmq-test-other")
        do {
            // The relay's target lives in the other context, on the same thread; its reader is in that context too.
            let target = try await thread.open(.push, linger: 0, in: monitors) { socket throws(ZMQError) in
                try socket.bind("inproc://inline-out")
            }
            let reader = try await thread.open(.pull, linger: 0, in: monitors) { socket throws(ZMQError) in
                try socket.connect("inproc://inline-out")
            }
            let foreign = try await elsewhere.open(.push, linger: 0) { socket throws(ZMQError) in
                try socket.bind("inproc://inline-foreign")
            }
            let relay = Relay(target: target, stranger: foreign)
            let inbound = try await thread.open(SocketSetup(.pull, linger: 0, inlineHandler: relay)) {
                socket throws(ZMQError) in
                try socket.bind("inproc://inline-in")
            }
            let socketThread = Mutex<UInt>(0)
            let feeder = try await thread.open(.push, linger: 0) { socket throws(ZMQError) in
                socketThread.withLock { $0 = UInt(pthread_self()) }  // configure runs on the socket thread
                try socket.connect("inproc://inline-in")
            }
            for index in 0..<3 {
                #expect(feeder.send(ZMQMessage("relay-\(index)")))
                #expect(feeder.send(ZMQMessage("keep-\(index)")))
            }

            var relayed: [String] = []
            for _ in 0..<3 {
                let message: ZMQMessage = try await next(reader.messages, "a relayed message")
                relayed.append(message.string(at: 0))
            }
            #expect(relayed == ["relay-0", "relay-1", "relay-2"])
            var kept: [String] = []
            for _ in 0..<3 {
                let message: ZMQMessage = try await next(inbound.messages, "a message handed on")
                kept.append(message.string(at: 0))
            }
            #expect(kept == ["keep-0", "keep-1", "keep-2"])

            let seen = relay.seen.withLock { $0 }
            #expect(seen.threads == [socketThread.withLock { $0 }])
            #expect(seen.sends == [true, true, true])
            // A socket of another thread is refused, not touched from the wrong thread.
            #expect(seen.strangerSends == [false, false, false])
        } catch {
            await thread.shutdown()
            await elsewhere.shutdown()
            throw error
        }
        await thread.shutdown()
        await elsewhere.shutdown()
        await agents.terminateOffPool()
        await monitors.terminateOffPool()
    }
}
