import TestSupport
import Testing
import ZeroMQ

@Suite(.serialized) struct ZAPHandlerTests {
    @Test func startsOncePerContextAndReportsWhetherItRuns() async throws {
        let context = try ZMQContext()
        let handler = try ZAPHandler(context: context) { _ in .deny("no") }
        #expect(!handler.isRunning)
        #expect(!context.hasZAPHandler)
        #expect(throws: ZMQError.self) { try handler.requireRunning() }

        try await handler.start()
        #expect(handler.isRunning)
        #expect(context.hasZAPHandler)
        try handler.requireRunning()

        do {
            try await handler.start()
            Issue.record("started twice")
        } catch {
            #expect(error.code == .zapHandlerAlreadyRunning)
        }
        let second = try ZAPHandler(context: context) { _ in .allow(userId: "x") }
        do {
            try await second.start()
            Issue.record("a second handler bound the ZAP endpoint")
        } catch {
            #expect(error.code == .zapHandlerAlreadyRunning)
        }
        #expect(!second.isRunning)
        #expect(handler.isRunning)

        await handler.stop()
        #expect(!handler.isRunning)
        #expect(!context.hasZAPHandler)
        await second.stop()
        await context.terminateOffPool()
    }

    @Test func answersRequestsAndMalformedOnesOverInproc() async throws {
        let context = try ZMQContext()
        let handler = try ZAPHandler(context: context) { request in
            request.mechanism == "CURVE" && request.domain == "decnet"
                ? .allow(userId: "agent:\(request.clientPublicKeyZ85 ?? "?")") : .deny(status: 400, reason: "nope")
        }
        try await handler.start()
        let thread = try SocketThread(context: context)
        let client = try await thread.open(.req, linger: 0) { socket throws(ZMQError) in
            try socket.connect(ZAPHandler.endpoint)
        }
        let key = try CurveKeyPair.generate().publicKey
        func ask(_ frames: [String], credentials: [[UInt8]] = []) async throws -> [String] {
            client.send(ZMQMessage(frames: frames.map { Array($0.utf8) } + credentials))
            return try await next(client.messages, "the ZAP reply").frames.map { String(decoding: $0, as: UTF8.self) }
        }

        let allowed = try await ask(["1.0", "7", "decnet", "127.0.0.1", "", "CURVE"], credentials: [key.bytes])
        #expect(allowed == ["1.0", "7", "200", "OK", "agent:\(key.z85)", ""])
        let denied = try await ask(["1.0", "8", "decnet", "127.0.0.1", "", "NULL"])
        #expect(denied == ["1.0", "8", "400", "nope", "", ""])
        let malformed = try await ask(["2.0", "9", "decnet"])
        #expect(malformed[0...2] == ["1.0", "9", "500"])
        #expect(handler.statistics == ZAPHandler.Statistics(requests: 3, allowed: 1, denied: 1, malformed: 1))

        await thread.shutdown()
        await handler.stop()
        await context.terminateOffPool()
    }

    @Test func stopsWhenTheContextShutsDown() async throws {
        let context = try ZMQContext()
        let handler = try ZAPHandler(context: context) { _ in .deny("no") }
        try await handler.start()
        context.shutdown()
        try await within(10, "the handler to stop on ETERM") {
            while handler.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        }
        #expect(!context.hasZAPHandler)
        await handler.stop()
        await context.terminateOffPool()
    }
}
