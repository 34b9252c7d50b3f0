import Foundation
import TestSupport
import ZeroMQ

/// One context with a running ZAP handler over an allow-list folder, a server key pair and a socket thread: the
/// master's side of the wire protocol in miniature. ``run(_:)`` always shuts everything down, within the lingers.
final class CurveWorld: Sendable {
    let context: ZMQContext
    let zap: ZAPHandler
    let allowList: AllowListAuthoriser
    let allowDirectory: TemporaryDirectory
    let serverKeys: CurveKeyPair
    let thread: SocketThread

    init() async throws {
        context = try ZMQContext()
        allowDirectory = try TemporaryDirectory("zmq-allow")
        allowList = try AllowListAuthoriser(directory: allowDirectory.path, domain: "decnet")
        zap = try ZAPHandler(context: context, authoriser: allowList)
        try await zap.start()
        serverKeys = try CurveKeyPair.generate()
        thread = try SocketThread(context: context, name: "zmq-test-sockets")
    }

    static func run(_ body: (CurveWorld) async throws -> Void) async throws {
        let world = try await CurveWorld()
        do {
            try await body(world)
        } catch {
            await world.shutdown()
            throw error
        }
        await world.shutdown()
    }

    func shutdown() async {
        await thread.shutdown()
        await zap.stop()
        await context.terminateOffPool()
        allowDirectory.remove()
    }

    /// Generates a client key pair (unless given) and lists it in the allow-list folder as `NAME.key` with
    /// `agent-id` metadata (none when `agentID` is nil, like a pyzmq-made certificate).
    @discardableResult
    func allow(name: String, agentID: String?, keys: CurveKeyPair? = nil) throws -> CurveKeyPair {
        let keys = try keys ?? CurveKeyPair.generate()
        let metadata = agentID.map { ["agent-id": $0, "role": "agent"] } ?? [:]
        try ZMQCertificate(publicKey: keys.publicKey, metadata: metadata)
            .write(directory: allowDirectory.path, name: name, overwrite: true)
        return keys
    }

    func revoke(name: String) throws {
        try FileManager.default.removeItem(atPath: allowDirectory.file(name + ".key"))
    }

    /// A monitored CURVE ROUTER (ZAP domain `decnet`) on an ephemeral loopback port, and its endpoint.
    func router(maxMessageSize: Int64? = nil, on thread: SocketThread? = nil) async throws -> (SocketHandle, String) {
        let keys = serverKeys
        let router = try await (thread ?? self.thread).open(.router, linger: 0, monitored: true) {
            socket throws(ZMQError) in
            try socket.makeCurveServer(keys: keys, zapDomain: "decnet")
            if let maxMessageSize { try socket.setOption(.maxMsgSize, maxMessageSize) }
            try socket.bind("tcp://127.0.0.1:*")
        }
        return (router, try await router.lastEndpoint())
    }

    /// A monitored CURVE DEALER that pins `serverKey` (the world's own by default) and retries quickly.
    func dealer(
        keys: CurveKeyPair,
        endpoint: String,
        routingId: String? = nil,
        serverKey: CurveKey? = nil,
        on thread: SocketThread? = nil,
        linger: Int32 = 0
    ) async throws -> SocketHandle {
        let pinned = serverKey ?? serverKeys.publicKey
        return try await (thread ?? self.thread).open(.dealer, linger: linger, monitored: true) {
            socket throws(ZMQError) in
            try socket.makeCurveClient(keys: keys, serverKey: pinned)
            if let routingId { try socket.setOption(.routingId, Array(routingId.utf8)) }
            try socket.setOption(.reconnectIvl, 100)
            try socket.setOption(.reconnectIvlMax, 500)
            try socket.connect(endpoint)
        }
    }
}
