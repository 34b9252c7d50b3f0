import Foundation
import Synchronization
import TestSupport
import Testing
import ZeroMQ

/// CURVE round trips on loopback, measured and printed (not timed: the machines are shared). The checks are on the
/// echoed content; the numbers are for the report.
@Suite(.serialized) struct LatencyTests {
    static let warmUp = 200
    static let rounds = 2000

    @Test func roundTripThroughTheSocketThread() async throws {
        try await CurveWorld.run { world in
            let keys = try world.allow(name: "bench", agentID: "bench")
            let (endpoint, server) = try await RawEchoServer.start(world: world)
            defer { server.stop() }
            let dealer = try await world.dealer(keys: keys, endpoint: endpoint)
            let samples = try await Self.bridgeRoundTrips(dealer)
            #expect(samples.count == Self.rounds)
            Self.report("socket thread bridge -> echo thread", samples)
        }
    }

    @Test func roundTripWithTheBridgeOnBothEnds() async throws {
        let server = try await EchoServer.start()
        let context = try ZMQContext()
        let thread = try SocketThread(context: context, name: "zmq-test-latency")
        let dealer = try await server.dealer(on: thread, linger: 0)
        let samples = try await Self.bridgeRoundTrips(dealer)
        await thread.shutdown()
        await context.terminateOffPool()
        await server.stop()
        #expect(samples.count == Self.rounds)
        Self.report("socket thread bridge -> socket thread bridge + echo task", samples)
    }

    @Test func roundTripOnOneThreadForComparison() async throws {
        try await CurveWorld.run { world in
            let keys = try world.allow(name: "bench", agentID: "bench")
            let (endpoint, server) = try await RawEchoServer.start(world: world)
            defer { server.stop() }
            let context = world.context
            let serverKey = world.serverKeys.publicKey
            let samples = try await withCheckedThrowingContinuation { (done: CheckedContinuation<[Duration], Error>) in
                let thread = Thread {
                    done.resume(with: Result { try Self.blockingRoundTrips(context, keys, serverKey, endpoint) })
                }
                thread.start()
            }
            #expect(samples.count == Self.rounds)
            Self.report("one thread, blocking calls -> echo thread", samples)
        }
    }

    /// Round trips through the socket thread's bridge: send, await the echo, check it.
    static func bridgeRoundTrips(_ dealer: SocketHandle) async throws -> [Duration] {
        try await within(120, "the round trips") {
            var replies = dealer.messages.makeAsyncIterator()
            var samples: [Duration] = []
            for index in 0..<(warmUp + rounds) {
                let payload = Array("request \(index)".utf8)
                let started = ContinuousClock.now
                dealer.send(ZMQMessage(frames: [payload]))
                guard let reply = await replies.next(), reply.frames == [payload] else {
                    throw TimedOut(what: "the echo of \(index)")
                }
                if index >= warmUp { samples.append(ContinuousClock.now - started) }
            }
            return samples
        }
    }

    /// Round trips with blocking calls on the calling thread (a dedicated one): the floor the bridge adds to.
    static func blockingRoundTrips(
        _ context: ZMQContext,
        _ keys: CurveKeyPair,
        _ serverKey: CurveKey,
        _ endpoint: String
    ) throws -> [Duration] {
        let socket = try ZMQSocket(context: context, type: .dealer)
        defer { socket.close() }
        try socket.setOption(.linger, 0)
        try socket.makeCurveClient(keys: keys, serverKey: serverKey)
        try socket.connect(endpoint)
        var samples: [Duration] = []
        for index in 0..<(warmUp + rounds) {
            let payload = Array("request \(index)".utf8)
            let started = ContinuousClock.now
            try socket.send(frames: [payload])
            guard try socket.poll(.readable, timeoutMilliseconds: 10_000) == .readable,
                let reply = try socket.receive(flags: .dontWait), reply.frames == [payload]
            else { throw TimedOut(what: "reply \(index)") }
            if index >= warmUp { samples.append(ContinuousClock.now - started) }
        }
        return samples
    }

    static func report(_ label: String, _ samples: [Duration]) {
        let sorted = samples.map { Double($0.components.attoseconds) / 1e12 + Double($0.components.seconds) * 1e6 }
            .sorted()
        guard !sorted.isEmpty else { return }
        func percentile(_ p: Double) -> Int { Int(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) }
        print(
            "ZMQ latency (\(label)), CURVE over tcp loopback, \(sorted.count) round trips: "
                + "p50 \(percentile(0.5)) µs, p90 \(percentile(0.9)) µs, p99 \(percentile(0.99)) µs"
        )
    }
}

/// A CURVE ROUTER on a plain thread of its own that echoes with blocking calls: the far side of the latency tests,
/// so that only the client side's path is being compared.
final class RawEchoServer: Sendable {
    private let stopping = Atomic<Bool>(false)

    static func start(world: CurveWorld) async throws -> (String, RawEchoServer) {
        let server = RawEchoServer()
        let context = world.context
        let keys = world.serverKeys
        let endpoint = try await withCheckedThrowingContinuation { (bound: CheckedContinuation<String, Error>) in
            let thread = Thread { server.serve(context: context, keys: keys, bound: bound) }
            thread.start()
        }
        return (endpoint, server)
    }

    func stop() { stopping.store(true, ordering: .relaxed) }

    private func serve(context: ZMQContext, keys: CurveKeyPair, bound: CheckedContinuation<String, Error>) {
        let socket: ZMQSocket
        do {
            socket = try ZMQSocket(context: context, type: .router)
            try socket.setOption(.linger, 0)
            try socket.makeCurveServer(keys: keys, zapDomain: "decnet")
            try socket.bind("tcp://127.0.0.1:*")
            bound.resume(returning: try socket.lastEndpoint())
        } catch {
            return bound.resume(throwing: error)
        }
        defer { socket.close() }
        while !stopping.load(ordering: .relaxed) {
            do {
                guard try socket.poll(.readable, timeoutMilliseconds: 50) == .readable else { continue }
                while let message = try socket.receive(flags: .dontWait) {
                    try socket.send(message)
                }
            } catch {
                return  // ETERM at shutdown
            }
        }
    }
}
