import ZeroMQ

/// A CURVE ROUTER in a world (context, ZAP, allow-list) of its own that echoes every message back to its sender:
/// the far side for client tests, which can be made to vanish with ``stop()``.
final class EchoServer: Sendable {
    let world: CurveWorld
    let router: SocketHandle
    let endpoint: String
    /// A key pair the server admits (agent id `client`).
    let clientKeys: CurveKeyPair
    private let echo: Task<Void, Never>

    var publicKey: CurveKey { world.serverKeys.publicKey }

    private init(world: CurveWorld, router: SocketHandle, endpoint: String, clientKeys: CurveKeyPair) {
        self.world = world
        self.router = router
        self.endpoint = endpoint
        self.clientKeys = clientKeys
        echo = Task {
            for await message in router.messages { router.send(ZMQMessage(frames: message.frames)) }
        }
    }

    static func start() async throws -> EchoServer {
        let world = try await CurveWorld()
        do {
            let clientKeys = try world.allow(name: "client", agentID: "client")
            let (router, endpoint) = try await world.router()
            return EchoServer(world: world, router: router, endpoint: endpoint, clientKeys: clientKeys)
        } catch {
            await world.shutdown()
            throw error
        }
    }

    /// A CURVE DEALER on `thread` with the admitted client keys, connected to the server.
    func dealer(on thread: SocketThread, linger: Int32) async throws -> SocketHandle {
        let (keys, serverKey, endpoint) = (clientKeys, publicKey, self.endpoint)
        return try await thread.open(.dealer, linger: linger) { socket throws(ZMQError) in
            try socket.makeCurveClient(keys: keys, serverKey: serverKey)
            try socket.connect(endpoint)
        }
    }

    /// Closes the server's sockets and terminates its context; returns when the echo loop has ended.
    func stop() async {
        await world.shutdown()
        await echo.value
    }
}
