import AgentProtocol
import DecnetJSON
import Foundation
import Master
import Synchronization
import TestSupport
import ZeroMQ

/// An agent as the wire protocol describes it, without Docker: a CURVE DEALER (routing id = agent id unless told
/// otherwise) and a CURVE PUB, in a context of its own. It records every message it sends and receives, so tests
/// can check them against the schemas.
final class SimulatedAgent: Sendable {
    let agentID: String
    let bootID: String
    let context: ZMQContext
    let thread: SocketThread
    let dealer: SocketHandle
    let pub: SocketHandle?
    let received: Recorder<ZMQMessage>
    let pubEvents: Recorder<SocketEvent>?
    let dealerEvents: Recorder<SocketEvent>
    private let log = Mutex<[JSONValue]>([])
    private let seq = Mutex(0)

    /// Everything sent (parsed), for schema checks.
    var sentMessages: [JSONValue] { log.withLock { $0 } }
    /// Everything received on the DEALER (parsed).
    var receivedMessages: [JSONValue] {
        received.items.compactMap { $0.frames.count == 1 ? try? JSONParser.parse($0.frames[0]) : nil }
    }

    init(
        agentID: String,
        keys: CurveKeyPair,
        masterKey: CurveKey,
        endpoints: MasterEndpoints,
        routingID: String? = nil,
        plain: Bool = false,
        publish: Bool = true,
        bootID: String = UUID().uuidString
    ) async throws {
        self.agentID = agentID
        self.bootID = bootID
        context = try ZMQContext()
        thread = try SocketThread(context: context, name: "sim-\(agentID)")
        let routing = Array((routingID ?? agentID).utf8)
        dealer = try await thread.open(.dealer, linger: 0, monitored: true) { socket throws(ZMQError) in
            if !plain { try socket.makeCurveClient(keys: keys, serverKey: masterKey) }
            try socket.setOption(.routingId, routing)
            try socket.setOption(.reconnectIvl, 100)
            try socket.setOption(.reconnectIvlMax, 500)
            try socket.connect(endpoints.command)
        }
        received = Recorder(dealer.messages)
        dealerEvents = Recorder(dealer.events)
        if publish {
            let pub = try await thread.open(.pub, linger: 0, monitored: true) { socket throws(ZMQError) in
                if !plain { try socket.makeCurveClient(keys: keys, serverKey: masterKey) }
                try socket.setOption(.reconnectIvl, 100)
                try socket.connect(endpoints.heartbeat)
            }
            self.pub = pub
            pubEvents = Recorder(pub.events)
        } else {
            pub = nil
            pubEvents = nil
        }
    }

    func close() async {
        await thread.shutdown()
        await context.terminateOffPool()
    }

    static let emptyState = AgentState.idle.jsonValue

    /// Sends a JSON message on the DEALER.
    func send(_ message: JSONValue) {
        log.withLock { $0.append(message) }
        dealer.send(ZMQMessage(frames: [Messages.frame(message)]))
    }

    func hello(state: JSONValue = SimulatedAgent.emptyState) {
        send(
            Messages.hello(
                agentID: agentID,
                agentVersion: "0.1.0-sim",
                bootID: bootID,
                capabilities: [
                    "apply",
                    "teardown", "state", "ping",
                ],
                state: state
            )
        )
    }

    /// The next heartbeat of this boot (seq 1, 2, ...), published on `hb.<topicAgent>`.
    @discardableResult
    func heartbeat(
        topicAgent: String? = nil,
        state: JSONValue = SimulatedAgent.emptyState,
        skip: Int = 0,
        intervalMillis: Int = 10_000
    ) -> Int {
        let n = seq.withLock { value -> Int in
            value += 1 + skip
            return value
        }
        let message = Messages.heartbeat(
            agentID: agentID,
            bootID: bootID,
            seq: n,
            sentAtMillis: Int(Date().timeIntervalSince1970 * 1000),
            intervalMillis: intervalMillis,
            agentVersion: "0.1.0-sim",
            running: .null,
            state: state
        )
        publish(topic: WireProtocol.heartbeatTopic(topicAgent ?? agentID), message)
        return n
    }

    func publish(topic: String, _ message: JSONValue) {
        log.withLock { $0.append(message) }
        pub?.send(ZMQMessage(frames: [Array(topic.utf8), Messages.frame(message)]))
    }

    /// Waits until the PUB's CURVE handshake is done and the master's subscription had time to arrive.
    func waitUntilPublishing() async throws {
        guard let pubEvents else { return }
        guard await pubEvents.first(where: { $0.kind == .handshakeSucceeded }) != nil else {
            throw TimedOut(what: "PUB handshake of \(agentID)")
        }
        try await Task.sleep(for: .milliseconds(300))
    }

    /// The next request received (a JSON envelope) whose id is not in `seen`.
    func request(type: String, seconds: Double = 15) async -> (message: ZMQMessage, envelope: JSONValue)? {
        guard
            let message = await received.first(
                seconds: seconds,
                where: { message in
                    (try? JSONParser.parse(message.frames.last ?? []))?["type"]?.stringValue == type
                }
            )
        else { return nil }
        guard let envelope = try? JSONParser.parse(message.frames.last ?? []) else { return nil }
        return (message, envelope)
    }

    /// Answers an apply the way a successful agent does: accepted, one progress, result.
    func answerApply(_ request: JSONValue) {
        let id = request["id"]?.stringValue ?? "?"
        send(Messages.accepted(id: id))
        send(Messages.progress(id: id, phase: .containers, done: 1, total: 1, message: "started decky-001"))
        send(
            Messages.result(
                id: id,
                body: [
                    "status": "applied", "version_hash": request["version_hash"] ?? .null,
                ]
            )
        )
    }
}
