import Testing
import ZeroMQ

/// The synchronous wrapper, used only with non-blocking calls here (tests run on Swift's cooperative pool).
@Suite struct SocketTests {
    /// Opens sockets in a fresh context, runs `body`, then closes them and terminates the context.
    func withSockets(_ types: [SocketType], _ body: ([ZMQSocket]) throws -> Void) throws {
        let context = try ZMQContext()
        let sockets = try types.map { try ZMQSocket(context: context, type: $0) }
        defer {
            for socket in sockets { socket.close() }
            context.terminate()
        }
        for socket in sockets { try socket.setOption(.linger, 0) }
        try body(sockets)
    }

    @Test func typedOptionsRoundTrip() throws {
        try withSockets([.dealer]) { sockets in
            let socket = sockets[0]
            try socket.setOption(.linger, 250)
            #expect(try socket.option(.linger) == 250)
            try socket.setOption(.routingId, Array("host-17".utf8))
            #expect(try socket.option(.routingId) == Array("host-17".utf8))
            try socket.setOption(.maxMsgSize, 16 << 20)
            #expect(try socket.option(.maxMsgSize) == 16 << 20)
            try socket.setOption(.sndhwm, 50)
            try socket.setOption(.rcvhwm, 60)
            #expect(try socket.option(.sndhwm) == 50)
            #expect(try socket.option(.rcvhwm) == 60)
            try socket.setOption(.heartbeatIvl, 10_000)
            try socket.setOption(.heartbeatTimeout, 30_000)
            try socket.setOption(.heartbeatTtl, 60_000)
            #expect(try socket.option(.heartbeatIvl) == 10_000)
            #expect(try socket.option(.heartbeatTimeout) == 30_000)
            #expect(try socket.option(.heartbeatTtl) == 60_000)
            try socket.setOption(.tcpKeepalive, 1)
            try socket.setOption(.tcpKeepaliveIdle, 60)
            try socket.setOption(.tcpKeepaliveCnt, 5)
            try socket.setOption(.tcpKeepaliveIntvl, 10)
            #expect(try socket.option(.tcpKeepalive) == 1)
            #expect(try socket.option(.tcpKeepaliveIdle) == 60)
            #expect(try socket.option(.tcpKeepaliveCnt) == 5)
            #expect(try socket.option(.tcpKeepaliveIntvl) == 10)
            try socket.setOption(.reconnectIvl, 1500)
            try socket.setOption(.reconnectIvlMax, 60_000)
            try socket.setOption(.handshakeIvl, 5000)
            #expect(try socket.option(.reconnectIvl) == 1500)
            #expect(try socket.option(.reconnectIvlMax) == 60_000)
            #expect(try socket.option(.handshakeIvl) == 5000)
            try socket.setOption(.immediate, true)
            #expect(try socket.option(.immediate) == true)
            try socket.setOption(.zapDomain, "decnet")
            #expect(try socket.option(.zapDomain) == "decnet")
            #expect(try socket.option(.fd) >= 0)
            #expect(try socket.option(.events) == [])

            let keys = try CurveKeyPair.generate()
            let server = try CurveKeyPair.generate().publicKey
            try socket.makeCurveClient(keys: keys, serverKey: server)
            #expect(try socket.option(.curveServerKey) == server)
            #expect(try socket.option(.curvePublicKey) == keys.publicKey)
            #expect(try socket.option(.curveSecretKey) == keys.secretKey)
        }
    }

    @Test func writeOnlyOptionsOnTheirSocketTypes() throws {
        try withSockets([.sub, .xpub, .router]) { sockets in
            try sockets[0].setOption(.subscribe, Array("hb.".utf8))
            try sockets[0].setOption(.unsubscribe, Array("hb.".utf8))
            try sockets[1].setOption(.xpubVerbose, true)
            try sockets[2].setOption(.routerMandatory, true)
            // libzmq refuses an option the socket type does not have.
            do {
                try sockets[2].setOption(.subscribe, Array("x".utf8))
                Issue.record("a ROUTER accepted subscribe")
            } catch let error as ZMQError {
                #expect(error.code == .invalidArgument)
            }
        }
    }

    @Test func multipartMessagesOverInproc() throws {
        try withSockets([.pair, .pair]) { sockets in
            try sockets[0].bind("inproc://socket-tests-pair")
            try sockets[1].connect("inproc://socket-tests-pair")
            #expect(try sockets[1].receive(flags: .dontWait) == nil)  // EAGAIN is a value
            let message = ZMQMessage(frames: [Array("one".utf8), [], Array(repeating: 7, count: 100_000)])
            #expect(try sockets[0].send(message, flags: .dontWait) == .sent)
            let received = try #require(try sockets[1].receive(flags: .dontWait))
            #expect(received.frames == message.frames)
            #expect(received.userId == nil)
            #expect(received.byteCount == 100_003)
            #expect(try sockets[1].receive(flags: .dontWait) == nil)
        }
    }

    @Test func sendWithoutPeerWouldBlock() throws {
        try withSockets([.dealer]) { sockets throws in
            // A DEALER with no connection at all has nowhere to queue: EAGAIN, returned as a value.
            #expect(try sockets[0].send(ZMQMessage("x"), flags: .dontWait) == .wouldBlock)
        }
    }

    @Test func routerMandatoryReportsUnknownPeers() throws {
        try withSockets([.router]) { sockets in
            try sockets[0].setOption(.routerMandatory, true)
            do {
                try sockets[0].send(ZMQMessage("nobody", "hello"), flags: .dontWait)
                Issue.record("sent to an unknown routing id")
            } catch let error as ZMQError {
                #expect(error.code == .hostUnreachable)
            }
        }
    }

    @Test func bindErrorsHaveStableCodes() throws {
        try withSockets([.router, .router]) { sockets in
            try sockets[0].bind("tcp://127.0.0.1:*")
            let endpoint = try sockets[0].lastEndpoint()
            #expect(endpoint.hasPrefix("tcp://127.0.0.1:"))
            #expect(try sockets[0].option(.lastEndpoint) == endpoint)
            func code(_ body: () throws(ZMQError) -> Void) -> ZMQError.Code? {
                do { try body() } catch { return error.code }
                return nil
            }
            #expect(code { () throws(ZMQError) in try sockets[1].bind(endpoint) } == .addressInUse)
            #expect(code { () throws(ZMQError) in try sockets[1].bind("nosuch://x") } == .protocolNotSupported)
            #expect(code { () throws(ZMQError) in try sockets[1].bind("tcp://127.0.0.1:port") } == .invalidArgument)
            #expect(code { () throws(ZMQError) in try sockets[1].unbind("tcp://127.0.0.1:1") } == .addressNotAvailable)
            try sockets[0].unbind(endpoint)
            #expect(code { () throws(ZMQError) in try sockets[0].unbind(endpoint) } == .addressNotAvailable)
        }
    }

    @Test func curveServerRefusesToBindWithoutZAP() throws {
        try withSockets([.router]) { sockets in
            try sockets[0].makeCurveServer(keys: try CurveKeyPair.generate(), zapDomain: "decnet")
            do {
                try sockets[0].bind("tcp://127.0.0.1:*")
                Issue.record("a CURVE server bound without a ZAP handler")
            } catch let error as ZMQError {
                #expect(error.code == .zapHandlerMissing)
            }
        }
    }

    @Test func contextShutdownMakesCallsFailWithETERM() throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context: context, type: .pull)
        try socket.setOption(.linger, 0)
        context.shutdown()
        do {
            _ = try socket.receive()  // would block forever without the shutdown
            Issue.record("received after shutdown")
        } catch {
            #expect(error.code == .contextTerminated)
            #expect(error.isTermination)
        }
        socket.close()
        socket.close()  // harmless
        #expect(socket.isClosed)
        context.terminate()
        #expect(context.isTerminated)
    }
}
