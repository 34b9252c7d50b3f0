import Foundation
import TestSupport
import Testing
import ZeroMQ

/// The socket thread with CURVE, the ZAP allow-list and monitor events, over real TCP on loopback.
@Suite(.serialized) struct SocketThreadTests {
    @Test func curveRoundTripCarriesTheKeyAsUserIdAndTheConnection() async throws {
        try await CurveWorld.run { world in
            let keys = try world.allow(name: "host-17", agentID: "host-17")
            let (router, endpoint) = try await world.router()
            let dealer = try await world.dealer(keys: keys, endpoint: endpoint, routingId: "host-17")
            let dealerEvents = Recorder(dealer.events)
            let routerEvents = Recorder(router.events)

            #expect(dealer.send(ZMQMessage("{\"type\":\"hello\"}")))
            let request = try await next(router.messages, "the request at the ROUTER")
            #expect(request.userId == keys.publicKey.z85)
            #expect(world.allowList.identity(forUserId: request.userId ?? "") == "host-17")
            #expect(request.routingId == Array("host-17".utf8))
            #expect(Array(request.body) == [Array("{\"type\":\"hello\"}".utf8)])
            #expect(request.peerAddress == "127.0.0.1")
            // The connection the message came on: its descriptor names a live TCP connection from the dealer.
            let connection = try #require(request.sourceDescriptor.flatMap { PeerConnection(descriptor: $0) })
            #expect(
                connection.remote.hasPrefix("127.0.0.1:")
                    && endpoint.hasSuffix(connection.local.split(separator: ":").last.map(String.init) ?? "?")
            )

            let reply = ZMQMessage(frames: [request.routingId!, Array("answer".utf8)])
            #expect(try await router.sendConfirmed(reply) == .sent)
            let answer = try await next(dealer.messages, "the reply at the DEALER")
            #expect(answer.frames == [Array("answer".utf8)])

            #expect(await dealerEvents.first { $0.kind == .handshakeSucceeded } != nil)
            #expect(await routerEvents.first { $0.kind == .accepted } != nil)
            #expect(await routerEvents.first { $0.kind == .handshakeSucceeded } != nil)
            #expect(world.zap.statistics.allowed == 1)
            #expect(world.allowList.statistics.allowed == 1)
        }
    }

    @Test func unknownKeyIsRefusedAndTheClientSeesAnAuthFailure() async throws {
        try await CurveWorld.run { world in
            try world.allow(name: "host-17", agentID: "host-17")
            let (router, endpoint) = try await world.router()
            let routerMessages = Recorder(router.messages)
            let stranger = try await world.dealer(keys: try CurveKeyPair.generate(), endpoint: endpoint)
            let events = Recorder(stranger.events)
            stranger.send(ZMQMessage("let me in"))

            let refusal = await events.first { $0.kind == .handshakeFailedAuth }
            #expect(refusal?.value == 400)
            #expect(!events.items.contains { $0.kind == .handshakeSucceeded })
            #expect(world.allowList.statistics.deniedUnknownKey >= 1)
            #expect(world.zap.statistics.denied >= 1)
            #expect(world.zap.statistics.allowed == 0)
            // A refused session is over for good, so its message can never arrive; a listed client's message, sent
            // after the refusal, is the only one the server reads.
            let friend = try await world.dealer(
                keys: try world.allow(name: "host-18", agentID: "host-18"),
                endpoint: endpoint
            )
            friend.send(ZMQMessage("after the refusal"))
            #expect(await routerMessages.wait { !$0.isEmpty })
            #expect(routerMessages.items.map { $0.string(at: 1) } == ["after the refusal"])
        }
    }

    @Test func clientPinningTheWrongServerKeyNeverConnects() async throws {
        try await CurveWorld.run { world in
            let keys = try world.allow(name: "host-17", agentID: "host-17")
            let (router, endpoint) = try await world.router()
            let routerMessages = Recorder(router.messages)
            let routerEvents = Recorder(router.events)
            let impostorKey = try CurveKeyPair.generate().publicKey
            let dealer = try await world.dealer(keys: keys, endpoint: endpoint, serverKey: impostorKey)
            let events = Recorder(dealer.events)
            dealer.send(ZMQMessage("hello?"))

            // The server cannot decrypt the client's HELLO and drops the connection: a protocol failure there.
            let failure = await routerEvents.first { $0.kind == .handshakeFailedProtocol }
            #expect(failure != nil)
            // The client saw its connection end too.
            #expect(await events.first { $0.isHandshakeFailure || $0.kind == .disconnected } != nil)
            #expect(!events.items.contains { $0.kind == .handshakeSucceeded })
            #expect(routerMessages.items.isEmpty)
            #expect(world.zap.statistics.requests == 0)
        }
    }

    @Test func plainClientIsRefused() async throws {
        try await CurveWorld.run { world in
            let (router, endpoint) = try await world.router()
            let routerMessages = Recorder(router.messages)
            let routerEvents = Recorder(router.events)
            let plain = try await world.thread.open(.dealer, linger: 0, monitored: true) { socket throws(ZMQError) in
                try socket.setOption(.reconnectIvl, 100)
                try socket.connect(endpoint)
            }
            let events = Recorder(plain.events)
            plain.send(ZMQMessage("no curve"))

            let failure = await routerEvents.first { $0.kind == .handshakeFailedProtocol }
            #expect(failure != nil)
            // The client saw its connection end too.
            #expect(await events.first { $0.isHandshakeFailure || $0.kind == .disconnected } != nil)
            #expect(!events.items.contains { $0.kind == .handshakeSucceeded })
            #expect(routerMessages.items.isEmpty)
        }
    }

    @Test func removingAKeyRefusesTheNextConnectionWithoutRestart() async throws {
        try await CurveWorld.run { world in
            let keys = try world.allow(name: "host-a", agentID: "host-a")
            let (router, endpoint) = try await world.router()

            let first = try await world.dealer(keys: keys, endpoint: endpoint, routingId: "host-a")
            first.send(ZMQMessage("one"))
            #expect(try await next(router.messages, "the first message").userId == keys.publicKey.z85)
            #expect(world.allowList.isAllowed(identity: "host-a"))
            await first.close()

            try world.revoke(name: "host-a")
            #expect(!world.allowList.isAllowed(identity: "host-a"))
            let second = try await world.dealer(keys: keys, endpoint: endpoint, routingId: "host-a")
            let events = Recorder(second.events)
            second.send(ZMQMessage("two"))
            #expect(await events.first { $0.kind == .handshakeFailedAuth } != nil)
            #expect(world.allowList.statistics.deniedUnknownKey >= 1)
            await second.close()

            // Listed again, under a new name: admitted again, with the new entry's identity.
            try world.allow(name: "host-a2", agentID: "host-a2", keys: keys)
            let third = try await world.dealer(keys: keys, endpoint: endpoint, routingId: "host-a2")
            third.send(ZMQMessage("three"))
            let message = try await next(router.messages, "the message after re-listing")
            #expect(world.allowList.identity(forUserId: message.userId ?? "") == "host-a2")
            #expect(message.string(at: 1) == "three")
        }
    }

    @Test func oversizedMessagesDisconnectThePeerAndTheServerGoesOn() async throws {
        try await CurveWorld.run { world in
            let keys = try world.allow(name: "host-17", agentID: "host-17")
            let limit = 1024
            let (router, endpoint) = try await world.router(
                maxMessageSize: Int64(limit + ZMQSocket.curveMessageOverhead)
            )
            let routerMessages = Recorder(router.messages)
            let routerEvents = Recorder(router.events)
            let dealer = try await world.dealer(keys: keys, endpoint: endpoint)

            // Exactly at the limit: delivered.
            dealer.send(ZMQMessage(frames: [[UInt8](repeating: 0x41, count: limit)]))
            #expect(await routerMessages.wait { $0.count == 1 })
            #expect(routerMessages.items.first?.frames.last?.count == limit)

            // One byte over: the server drops the connection; nothing is delivered, nothing crashes.
            dealer.send(ZMQMessage(frames: [[UInt8](repeating: 0x42, count: limit + 1)]))
            #expect(await routerEvents.first { $0.kind == .disconnected } != nil)

            // The server still serves: a fresh client gets through, and the oversized message never did (its
            // connection was dropped on it, before this one was made).
            let other = try await world.dealer(keys: keys, endpoint: endpoint)
            other.send(ZMQMessage("small"))
            #expect(await routerMessages.wait { $0.contains { $0.string(at: 1) == "small" } })
            #expect(routerMessages.items.map { $0.frames.last?.count ?? 0 } == [limit, 5])
        }
    }

    @Test func shutdownWithTheServerGoneFinishesWithinTheLinger() async throws {
        // The server lives in its own context and goes away after one exchange.
        let server = try await EchoServer.start()
        let context = try ZMQContext()
        let thread = try SocketThread(context: context, name: "zmq-test-client")
        let dealer = try await server.dealer(on: thread, linger: 500)
        dealer.send(ZMQMessage("ping"))
        #expect(try await next(dealer.messages, "the echo").frames == [Array("ping".utf8)])
        await server.stop()

        for index in 0..<100 { dealer.send(ZMQMessage("queued \(index)")) }
        let started = ContinuousClock.now
        try await within(10, "shutdown") {
            await thread.shutdown()
            await context.terminateOffPool()
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .seconds(3), "shutdown took \(elapsed) with a linger of 500 ms")
        #expect(!thread.isRunning)
        #expect(await dealer.messages.first { _ in true } == nil)  // the stream ended
        #expect(dealer.send(ZMQMessage("late")) == false)
        do {
            _ = try await dealer.sendConfirmed(ZMQMessage("late"))
            Issue.record("sent after shutdown")
        } catch {
            #expect(error.code == .reactorStopped)
        }
    }
}
