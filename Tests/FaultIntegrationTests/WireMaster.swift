import DecnetJSON
import Foundation
import TestSupport
import ZeroMQ

/// A bare master speaking the wire protocol (docs/wire-protocol.md#sockets, docs/wire-protocol.md#keys,
/// docs/wire-protocol.md#identity): a CURVE ROUTER for commands and a CURVE SUB for heartbeats on loopback, with ZAP
/// over an allow-list folder, recording every envelope received byte for byte.
///
/// The real master de-duplicates: a second submit of an id in flight is attached to the first and never reaches the
/// agent. To show what the agent itself does with duplicates, reordering and late retries, this master sends
/// exactly the frames a test asks for.
final class WireMaster: Sendable {
    struct Received: Sendable {
        /// The agent the message says it is from (its `agent_id`), else the connection's routing id as text.
        var routingID: String
        /// The routing id libzmq gave the connection.
        var connection: [UInt8] = []
        var bytes: [UInt8]
        var message: JSONValue
        var type: String?
        var id: String?

        init(routingID: String, bytes: [UInt8]) {
            self.routingID = routingID
            self.bytes = bytes
            message = (try? JSONParser.parse(bytes)) ?? .null
            type = message["type"]?.stringValue
            id = message["id"]?.stringValue
            if let agent = message["agent_id"]?.stringValue { self.routingID = agent }
        }
    }

    /// Each agent's connection: the routing id of its latest hello (docs/wire-protocol.md#identity).
    let routes = Locked<[String: [UInt8]]>([:])

    let context: ZMQContext
    let zap: ZAPHandler
    let thread: SocketThread
    let router: SocketHandle
    let sub: SocketHandle
    let commandEndpoint: String
    let heartbeatEndpoint: String
    let allowListDirectory: String
    let publicKeyPath: String
    let received = Locked<[Received]>([])
    let heartbeats = Locked<[JSONValue]>([])
    private let pump: Task<Void, Never>

    /// Binds on ephemeral loopback ports; its key and allow-list live under `directory`.
    init(directory: String) async throws {
        allowListDirectory = directory + "/allow"
        try FileManager.default.createDirectory(atPath: allowListDirectory, withIntermediateDirectories: true)
        let certificate = try ZMQCertificate.generate(metadata: ["role": "master"])
        try certificate.write(directory: directory, name: "wire-master", overwrite: false)
        publicKeyPath = directory + "/wire-master.key"
        guard let keys = certificate.keyPair else { throw FaultTestError("generated certificate has no secret") }
        context = try ZMQContext()
        zap = try ZAPHandler(
            context: context,
            authoriser: try AllowListAuthoriser(
                directory: allowListDirectory,
                domain: "decnet",
                rescanInterval: .milliseconds(200)
            )
        )
        try await zap.start()
        thread = try SocketThread(context: context, name: "wire-master")
        router = try await thread.open(.router, linger: 0) { (s: ZMQSocket) throws(ZMQError) in
            try s.makeCurveServer(keys: keys, zapDomain: "decnet")
            try s.setOption(.routerMandatory, true)
            try s.bind("tcp://127.0.0.1:*")
        }
        sub = try await thread.open(.sub, linger: 0) { (s: ZMQSocket) throws(ZMQError) in
            try s.makeCurveServer(keys: keys, zapDomain: "decnet")
            try s.setOption(.subscribe, [])
            try s.bind("tcp://127.0.0.1:*")
        }
        commandEndpoint = try await router.lastEndpoint()
        heartbeatEndpoint = try await sub.lastEndpoint()
        let (router, sub, received, heartbeats, routes) = (router, sub, received, heartbeats, routes)
        pump = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await message in router.messages where message.frames.count == 2 {
                        let bytes = message.frames[1]
                        var entry = Received(routingID: message.string(at: 0), bytes: bytes)
                        entry.connection = message.frames[0]
                        if entry.type == "hello" { routes.withLock { $0[entry.routingID] = entry.connection } }
                        received.withLock { $0.append(entry) }
                    }
                }
                group.addTask {
                    for await message in sub.messages where message.frames.count == 2 {
                        if let value = try? JSONParser.parse(message.frames[1]), value["type"] == "heartbeat" {
                            heartbeats.withLock { $0.append(value) }
                        }
                    }
                }
            }
        }
    }

    /// Sends one envelope to the agent; false when the agent is not connected (ROUTER_MANDATORY).
    @discardableResult
    func send(_ agentID: String, _ message: JSONValue) -> Bool {
        let connection = routes.withLock { $0[agentID] } ?? Array(agentID.utf8)
        return router.send(ZMQMessage(frames: [connection, PythonJSONEncoder().encode(message)]))
    }

    /// Everything received for request `id`, in order.
    func answers(_ id: String) -> [Received] { received.value.filter { $0.id == id } }
    func results(_ id: String) -> [Received] { answers(id).filter { $0.type == "result" } }
    func hellos(_ agentID: String) -> [Received] {
        received.value.filter { $0.type == "hello" && $0.routingID == agentID }
    }

    /// Waits until `count` results for `id` arrived and returns them.
    @discardableResult
    func waitForResults(
        _ id: String,
        count: Int = 1,
        within seconds: Double = 60,
        poll: Duration = .milliseconds(20)
    ) async throws -> [Received] {
        try await eventually("\(count) result(s) of \(id)", within: seconds, every: poll) {
            results(id).count >= count
        }
        return results(id)
    }

    /// Sends `message` and waits for one more result of its id; answers that result.
    func request(
        _ agentID: String,
        _ message: JSONValue,
        within seconds: Double = 60,
        poll: Duration = .milliseconds(20)
    ) async throws -> Received {
        let id = message["id"]?.stringValue ?? ""
        let before = results(id).count
        guard send(agentID, message) else { throw FaultTestError("\(agentID) is not connected") }
        return try await waitForResults(id, count: before + 1, within: seconds, poll: poll)[before]
    }

    func shutdown() async {
        pump.cancel()
        await thread.shutdown()
        await zap.stop()
        await context.terminateOffPool()
    }
}
