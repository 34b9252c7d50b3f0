import AgentProtocol
import DecnetJSON
import Foundation
import TestSupport
import ZeroMQ

/// A minimal master for end-to-end tests (a copy of AgentTransportTests/TestMaster.swift): ZAP over an allow-list
/// folder, a CURVE ROUTER for commands and a CURVE SUB for heartbeats on ephemeral loopback ports, recording
/// everything it receives.
final class TestMaster: Sendable {
    struct Received: Sendable {
        var userId: String?
        var routingId: String
        var message: JSONValue
    }

    let context: ZMQContext
    let zap: ZAPHandler
    let allowDirectory: String
    let keys: CurveKeyPair
    let thread: SocketThread
    let router: Locked<SocketHandle?> = Locked(nil)
    let sub: SocketHandle
    let commandEndpoint: Locked<String> = Locked("")
    let heartbeatEndpoint: String
    let commands = Locked<[Received]>([])
    let published = Locked<[(topic: String, message: JSONValue, userId: String?)]>([])

    init() async throws {
        context = try ZMQContext()
        allowDirectory = NSTemporaryDirectory() + "allow-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: allowDirectory, withIntermediateDirectories: true)
        zap = try ZAPHandler(context: context, authoriser: try AllowListAuthoriser(directory: allowDirectory, domain: "decnet"))
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
    func openRouter(endpoint: String) async throws {
        let keys = self.keys
        let r = try await thread.open(.router, linger: 0) { (s: ZMQSocket) throws(ZMQError) in
            try s.makeCurveServer(keys: keys, zapDomain: "decnet")
            try s.setOption(.routerMandatory, true)
            try s.bind(endpoint)
        }
        router.withLock { $0 = r }
        commandEndpoint.withLock { $0 = "" }
        let bound = try await r.lastEndpoint()
        commandEndpoint.withLock { $0 = bound }
    }

    func closeRouter() async {
        if let r = router.withLock({ h -> SocketHandle? in defer { h = nil }; return h }) { await r.close() }
    }

    /// Lists an agent key in the allow-list as `NAME.key` with `agent-id` metadata.
    func allow(agentID: String, keys: CurveKeyPair) throws {
        try ZMQCertificate(publicKey: keys.publicKey, metadata: ["agent-id": agentID, "role": "agent"])
            .write(directory: allowDirectory, name: agentID, overwrite: true)
    }

    /// Records incoming messages until cancelled.
    func pump() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [sub, published] in
                for await m in sub.messages where m.frames.count == 2 {
                    let value = (try? JSONParser.parse(m.frames[1])) ?? .null
                    published.withLock { $0.append((m.string(at: 0), value, m.userId)) }
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
                        commands.withLock {
                            $0.append(Received(userId: m.userId, routingId: m.string(at: 0), message: value))
                        }
                    }
                }
            }
        }
    }

    func send(to agentID: String, _ message: JSONValue) {
        _ = router.value?.send(ZMQMessage(frames: [Array(agentID.utf8), Messages.frame(message)]))
    }

    func sendRaw(to agentID: String, _ frame: [UInt8]) {
        _ = router.value?.send(ZMQMessage(frames: [Array(agentID.utf8), frame]))
    }

    func answers(id: String) -> [JSONValue] { commands.value.map(\.message).filter { $0["id"]?.stringValue == id } }

    func waitFor(_ what: String, timeout: Duration = .seconds(20), _ ok: @escaping () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if ok() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw FixtureError("timed out waiting for \(what)")
    }

    func shutdown() async {
        await thread.shutdown()
        await zap.stop()
        await context.terminateOffPool()
        try? FileManager.default.removeItem(atPath: allowDirectory)
    }
}
