import AgentProtocol
import DecnetJSON
import Foundation
import TestSupport
import ZeroMQ

/// A minimal master for end-to-end tests: ZAP over an allow-list folder, a CURVE ROUTER for commands and a CURVE
/// SUB for heartbeats on ephemeral loopback ports, recording everything it receives.
public final class TestMaster: Sendable {
    /// One message received on the command ROUTER: who sent it (the identity the allow-list gives its key), the
    /// connection's routing id and the parsed last frame.
    public struct Received: Sendable {
        /// The sender's identity (the allow-list entry of its key), `nil` when the key is not listed.
        public var userId: String?
        /// Same as `userId`: the agent the sender's key belongs to.
        public var routingId: String
        /// The routing id libzmq gave the connection.
        public var connection: [UInt8]
        public var message: JSONValue
    }

    let context: ZMQContext
    public let zap: ZAPHandler
    let allowList: AllowListAuthoriser
    /// Each agent's connection: the routing id of its latest hello (docs/wire-protocol.md#identity).
    let routes = Locked<[String: [UInt8]]>([:])
    let allowDirectory: String
    /// The master's CURVE key pair (agents need its public key).
    public let keys: CurveKeyPair
    let thread: SocketThread
    /// The command ROUTER, `nil` between ``closeRouter()`` and ``openRouter(endpoint:)``.
    public let router: Locked<SocketHandle?> = Locked(nil)
    let sub: SocketHandle
    /// Where the ROUTER is bound; empty while it is being (re)bound.
    public let commandEndpoint: Locked<String> = Locked("")
    public let heartbeatEndpoint: String
    /// Every message received on the ROUTER, in order.
    public let commands = Locked<[Received]>([])
    /// Every two-frame message received on the SUB (topic, parsed body, CURVE user id), in order.
    public let published = Locked<[(topic: String, message: JSONValue, userId: String?)]>([])

    /// Starts the ZAP handler, binds the SUB and the ROUTER on ephemeral loopback ports.
    public init() async throws {
        context = try ZMQContext()
        allowDirectory = NSTemporaryDirectory() + "allow-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: allowDirectory, withIntermediateDirectories: true)
        allowList = try AllowListAuthoriser(directory: allowDirectory, domain: "decnet")
        zap = try ZAPHandler(context: context, authoriser: allowList)
        try await zap.start()
        keys = try CurveKeyPair.generate()
        thread = try SocketThread(context: context, name: "test-master")
        let keys = self.keys
        sub = try await thread.open(.sub, linger: 0) { (s: ZMQSocket) throws(ZMQError) in
            try s.makeCurveServer(keys: keys, zapDomain: "decnet")
            try s.setOption(.subscribe, [])
            try s.bind("tcp://127.0.0.1:*")
        }
        heartbeatEndpoint = try await sub.lastEndpoint()
        try await openRouter(endpoint: "tcp://127.0.0.1:*")
    }

    /// (Re)binds the command ROUTER; pass the previous endpoint to come back on the same port after a "restart".
    /// libzmq releases a closed socket's port on its I/O thread, a moment after ``closeRouter()`` returns: a bind
    /// that finds the port still taken is tried again (for up to 5 s) until the bind itself succeeds.
    public func openRouter(endpoint: String) async throws {
        let keys = self.keys
        let deadline = ContinuousClock.now + .seconds(5)
        var r = try await Self.bindRouter(thread, keys: keys, endpoint: endpoint)
        while r == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            r = try await Self.bindRouter(thread, keys: keys, endpoint: endpoint)
        }
        guard let r else { throw FixtureError("\(endpoint) stayed in use for 5 s") }
        router.withLock { $0 = r }
        commandEndpoint.withLock { $0 = "" }
        let bound = try await r.lastEndpoint()
        commandEndpoint.withLock { $0 = bound }
    }

    /// A bound ROUTER, or nil when the port is still in use.
    static func bindRouter(_ thread: SocketThread, keys: CurveKeyPair, endpoint: String) async throws -> SocketHandle? {
        let result: Result<SocketHandle, ZMQError>
        do {
            result = .success(
                try await thread.open(.router, linger: 0) { (s: ZMQSocket) throws(ZMQError) in
                    try s.makeCurveServer(keys: keys, zapDomain: "decnet")
                    try s.setOption(.routerMandatory, true)
                    try s.bind(endpoint)
                }
            )
        } catch {
            result = .failure(error)
        }
        switch result {
        case .success(let handle): return handle
        case .failure(let error) where error.code == .addressInUse: return nil
        case .failure(let error): throw error
        }
    }

    /// Closes the command ROUTER (a master "going away"), keeping everything else.
    public func closeRouter() async {
        if let r = router.withLock({ h -> SocketHandle? in
            defer { h = nil }
            return h
        }) {
            await r.close()
        }
    }

    /// Lists an agent key in the allow-list as `NAME.key` with `agent-id` metadata.
    public func allow(agentID: String, keys: CurveKeyPair) throws {
        try ZMQCertificate(publicKey: keys.publicKey, metadata: ["agent-id": agentID, "role": "agent"])
            .write(directory: allowDirectory, name: agentID, overwrite: true)
    }

    /// Lists an agent as an operator does: its public certificate file (`agent.key`, as `decnet-agent keygen` or
    /// `decnet-master keygen` wrote it) copied into the allow-list as `AGENT-ID.key`.
    public func allow(agentID: String, publicKeyFile: String) throws {
        try FileManager.default.copyItem(atPath: publicKeyFile, toPath: allowDirectory + "/" + agentID + ".key")
    }

    /// Writes this master's public certificate as `directory/NAME.key`, for an agent's `--master-key`.
    public func writePublicKey(directory: String, name: String = "master") throws {
        try ZMQCertificate(publicKey: keys.publicKey, metadata: ["role": "master"]).write(
            directory: directory,
            name: name
        )
    }

    /// Records incoming messages until cancelled.
    public func pump() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [sub, published, allowList] in
                for await m in sub.messages where m.frames.count == 2 {
                    let value = (try? JSONParser.parse(m.frames[1])) ?? .null
                    let sender = m.userId.flatMap { allowList.identity(forUserId: $0) }
                    published.withLock { $0.append((m.string(at: 0), value, sender)) }
                }
            }
            group.addTask { [self] in
                while !Task.isCancelled {
                    guard let r = router.value else {
                        try? await Task.sleep(for: .milliseconds(10))
                        continue
                    }
                    for await m in r.messages {
                        let value = (try? JSONParser.parse(m.frames.last ?? [])) ?? .null
                        let sender = m.userId.flatMap { allowList.identity(forUserId: $0) }
                        let connection = m.frames.first ?? []
                        if let sender, value["type"] == "hello" { routes.withLock { $0[sender] = connection } }
                        commands.withLock {
                            $0.append(
                                Received(
                                    userId: sender,
                                    routingId: sender ?? "",
                                    connection: connection,
                                    message: value
                                )
                            )
                        }
                    }
                }
            }
        }
    }

    /// Sends `message` to `agentID` over the connection of its latest hello.
    public func send(to agentID: String, _ message: JSONValue) {
        sendRaw(to: agentID, Messages.frame(message))
    }

    /// The routing id of `agentID`'s latest hello (its agent id when none came yet).
    public func connection(of agentID: String) -> [UInt8] {
        routes.withLock { $0[agentID] } ?? Array(agentID.utf8)
    }

    /// Sends one raw frame (after the routing id) to `agentID` over the connection of its latest hello.
    public func sendRaw(to agentID: String, _ frame: [UInt8]) {
        _ = router.value?.send(ZMQMessage(frames: [connection(of: agentID), frame]))
    }

    /// The messages received whose `id` is `id`, in order.
    public func answers(id: String) -> [JSONValue] {
        commands.value.map(\.message).filter { $0["id"]?.stringValue == id }
    }

    /// Polls `ok` every 50 ms; throws naming `what` when `timeout` passes first.
    public func waitFor(_ what: String, timeout: Duration = .seconds(20), _ ok: @escaping () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if ok() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw FixtureError("timed out waiting for \(what)")
    }

    /// Closes every socket, the ZAP handler and the context, and removes the allow-list folder.
    public func shutdown() async {
        await thread.shutdown()
        await zap.stop()
        await context.terminateOffPool()
        try? FileManager.default.removeItem(atPath: allowDirectory)
    }
}
