import Foundation
import Synchronization
import ZeroMQ

/// How many round trips each path times, after how many untimed ones.
struct Settings: Sendable {
    let rounds: Int
    let warmUp: Int
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
}

/// A context with a ZAP handler over an allow-list folder, the server's key pair and one allowed client key pair.
final class CurveWorld: Sendable {
    let context: ZMQContext
    let zap: ZAPHandler
    let allowDirectory: String
    let serverKeys: CurveKeyPair
    let clientKeys: CurveKeyPair

    init() async throws {
        context = try ZMQContext()
        allowDirectory =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "zmq-latency-\(UUID().uuidString)"
            ).path
        try FileManager.default.createDirectory(atPath: allowDirectory, withIntermediateDirectories: true)
        zap = try ZAPHandler(
            context: context,
            authoriser: try AllowListAuthoriser(directory: allowDirectory, domain: "decnet")
        )
        try await zap.start()
        serverKeys = try CurveKeyPair.generate()
        clientKeys = try CurveKeyPair.generate()
        try ZMQCertificate(publicKey: clientKeys.publicKey, metadata: ["agent-id": "bench", "role": "agent"])
            .write(directory: allowDirectory, name: "bench")
    }

    func shutdown() async {
        await zap.stop()
        await context.terminateOffPool()
        try? FileManager.default.removeItem(atPath: allowDirectory)
    }
}

/// A CURVE ROUTER on a plain thread of its own that echoes with blocking calls, so only the client side's path is
/// being compared.
final class RawEchoServer: Sendable {
    private let stopping = Atomic<Bool>(false)

    static func start(_ world: CurveWorld) async throws -> (String, RawEchoServer) {
        let server = RawEchoServer()
        let endpoint = try await withCheckedThrowingContinuation { (bound: CheckedContinuation<String, Error>) in
            Thread { server.serve(world.context, world.serverKeys, bound) }.start()
        }
        return (endpoint, server)
    }

    func stop() { stopping.store(true, ordering: .relaxed) }

    private func serve(_ context: ZMQContext, _ keys: CurveKeyPair, _ bound: CheckedContinuation<String, Error>) {
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
                while let message = try socket.receive(flags: .dontWait) { try socket.send(message) }
            } catch {
                return  // ETERM at shutdown
            }
        }
    }
}

/// Round trips through a SocketThread's bridge: send, await the echo, check it.
func bridgeRoundTrips(_ dealer: SocketHandle, _ settings: Settings) async throws -> [Duration] {
    try await withThrowingTaskGroup(of: [Duration].self) { group in
        group.addTask {
            var replies = dealer.messages.makeAsyncIterator()
            var samples: [Duration] = []
            for index in 0..<(settings.warmUp + settings.rounds) {
                let payload = Array("request \(index)".utf8)
                let started = ContinuousClock.now
                dealer.send(ZMQMessage(frames: [payload]))
                guard let reply = await replies.next() else { throw BenchFailure(description: "no echo of \(index)") }
                guard reply.frames == [payload] else { throw BenchFailure(description: "a wrong echo of \(index)") }
                if index >= settings.warmUp { samples.append(ContinuousClock.now - started) }
            }
            return samples
        }
        // Generous: 2,200 round trips take well under a second; a lost echo would otherwise wait forever.
        group.addTask {
            try await Task.sleep(for: .seconds(10 + settings.rounds / 100))
            throw BenchFailure(description: "the round trips did not finish in time")
        }
        let samples = try await group.next()!
        group.cancelAll()
        return samples
    }
}

/// Round trips with blocking calls on the calling thread (a dedicated one).
func blockingRoundTrips(_ world: CurveWorld, _ endpoint: String, _ settings: Settings) throws -> [Duration] {
    let socket = try ZMQSocket(context: world.context, type: .dealer)
    defer { socket.close() }
    try socket.setOption(.linger, 0)
    try socket.makeCurveClient(keys: world.clientKeys, serverKey: world.serverKeys.publicKey)
    try socket.connect(endpoint)
    var samples: [Duration] = []
    for index in 0..<(settings.warmUp + settings.rounds) {
        let payload = Array("request \(index)".utf8)
        let started = ContinuousClock.now
        try socket.send(frames: [payload])
        guard try socket.poll(.readable, timeoutMilliseconds: 10_000) == .readable,
            let reply = try socket.receive(flags: .dontWait)
        else { throw BenchFailure(description: "no echo of \(index)") }
        guard reply.frames == [payload] else { throw BenchFailure(description: "a wrong echo of \(index)") }
        if index >= settings.warmUp { samples.append(ContinuousClock.now - started) }
    }
    return samples
}

func dealer(on thread: SocketThread, _ world: CurveWorld, _ endpoint: String) async throws -> SocketHandle {
    let (keys, serverKey) = (world.clientKeys, world.serverKeys.publicKey)
    return try await thread.open(.dealer, linger: 0) { socket throws(ZMQError) in
        try socket.makeCurveClient(keys: keys, serverKey: serverKey)
        try socket.connect(endpoint)
    }
}

func report(_ path: String, _ samples: [Duration]) {
    let sorted = samples.map { Double($0.components.attoseconds) / 1e12 + Double($0.components.seconds) * 1e6 }
        .sorted()
    func percentile(_ p: Double) -> Int { Int(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) }
    print(
        #"{"path": "\#(path)", "round_trips": \#(sorted.count), "p50_us": \#(percentile(0.5)), "#
            + #""p90_us": \#(percentile(0.9)), "p99_us": \#(percentile(0.99))}"#
    )
}

func bridgeToEchoThread(_ settings: Settings) async throws {
    let world = try await CurveWorld()
    let (endpoint, server) = try await RawEchoServer.start(world)
    let thread = try SocketThread(context: world.context, name: "zmq-latency")
    let result = await capture { try await bridgeRoundTrips(try await dealer(on: thread, world, endpoint), settings) }
    await thread.shutdown()
    server.stop()
    await world.shutdown()
    report("bridge", try result.get())
}

func bridgeOnBothEnds(_ settings: Settings) async throws {
    let world = try await CurveWorld()
    let serverThread = try SocketThread(context: world.context, name: "zmq-latency-server")
    let keys = world.serverKeys
    let router = try await serverThread.open(.router, linger: 0) { socket throws(ZMQError) in
        try socket.makeCurveServer(keys: keys, zapDomain: "decnet")
        try socket.bind("tcp://127.0.0.1:*")
    }
    let echo = Task { for await message in router.messages { router.send(ZMQMessage(frames: message.frames)) } }
    let endpoint = try await router.lastEndpoint()
    let thread = try SocketThread(context: world.context, name: "zmq-latency")
    let result = await capture { try await bridgeRoundTrips(try await dealer(on: thread, world, endpoint), settings) }
    await thread.shutdown()
    await serverThread.shutdown()
    await echo.value
    await world.shutdown()
    report("both", try result.get())
}

func oneThread(_ settings: Settings) async throws {
    let world = try await CurveWorld()
    let (endpoint, server) = try await RawEchoServer.start(world)
    let result = await withCheckedContinuation { (done: CheckedContinuation<Result<[Duration], any Error>, Never>) in
        Thread { done.resume(returning: Result { try blockingRoundTrips(world, endpoint, settings) }) }.start()
    }
    server.stop()
    await world.shutdown()
    report("one-thread", try result.get())
}

/// The outcome of `body`, so that what was opened is closed whether or not it threw.
func capture<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}
