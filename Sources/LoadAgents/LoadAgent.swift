import AgentProtocol
import DecnetJSON
import Foundation
import Synchronization
import ZeroMQ

/// One simulated agent: a CURVE DEALER (routing id = agent id, `hello` after every handshake, answers `state` and
/// `ping`) and a CURVE heartbeat socket publishing `hb.<id>` with a growing `seq`, both dialling the master with the
/// real agent's socket options. The sockets live on a ``SocketThread`` shared with other simulated agents.
///
/// The heartbeat socket is an XPUB rather than a PUB: on the wire the master's SUB cannot tell them apart, but an
/// XPUB (with `ZMQ_XPUB_VERBOSE`) hands its owner the master's subscription on every connection, and its monitor
/// reports when the connection ends. So every heartbeat is counted as sent on a live, subscribed connection (PUB/SUB
/// must deliver it) or sent while the connection was down. libzmq keeps the latter in the connect-side queue (up to
/// the high-water mark) and delivers them after the reconnect, as it does for a real agent's PUB; those written into
/// a connection just before it died are lost.
final class LoadAgent: Sendable {
    let id: String
    let bootID: String
    let dealer: SocketHandle
    let publisher: SocketHandle
    private let state = Mutex(State())

    /// What happened to this agent, in milliseconds on the fleet's clock.
    struct State: Sendable {
        var seq = 0
        var subscribed = false
        /// Sequence numbers published while the heartbeat connection was down or not yet subscribed.
        var unsubscribedSeqs: [Int] = []
        var handshakes: [Int64] = []
        var disconnects: [Int64] = []
        var subscriptions: [Int64] = []
        var handshakeFailures = 0
        var requestsAnswered = 0
        /// The topology "applied" by the last successful apply (id, hash), shown in every state object.
        var applied: (id: String, hash: String)?
        /// Applies and teardowns received, by request id (a repeated id is answered again, not counted).
        var changes: Set<String> = []
    }

    private init(id: String, bootID: String, dealer: SocketHandle, publisher: SocketHandle) {
        self.id = id
        self.bootID = bootID
        self.dealer = dealer
        self.publisher = publisher
    }

    /// Opens both sockets on `thread` and starts dialling.
    static func open(
        on thread: SocketThread,
        id: String,
        keys: CurveKeyPair,
        link: LinkSettings
    ) async throws(ZMQError) -> LoadAgent {
        let reconnect = Int32.random(in: link.reconnectMillis)
        let common: @Sendable (ZMQSocket) throws(ZMQError) -> Void = { (s: ZMQSocket) throws(ZMQError) in
            try s.makeCurveClient(keys: keys, serverKey: link.masterKey)
            try s.setOption(.reconnectIvl, reconnect)
            try s.setOption(.reconnectIvlMax, link.reconnectMaxMillis)
            try s.setOption(.heartbeatTtl, link.zmtpHeartbeatMillis.ttl)
            try s.setOption(.tcpKeepalive, 1)
            try s.setOption(.tcpKeepaliveIdle, 60)
        }
        let dealer = try await thread.open(
            SocketSetup(.dealer, linger: 0, monitored: true, queueWhenBlocked: false)
        ) { (s: ZMQSocket) throws(ZMQError) in
            try common(s)
            try s.setOption(.heartbeatIvl, link.zmtpHeartbeatMillis.interval)
            try s.setOption(.heartbeatTimeout, link.zmtpHeartbeatMillis.timeout)
            try s.setOption(.routingId, Array(id.utf8))
            try s.setOption(.immediate, true)
            try s.connect(link.commandEndpoint)
        }
        do {
            let publisher = try await thread.open(
                SocketSetup(.xpub, linger: 0, monitored: true, queueWhenBlocked: false)
            ) { (s: ZMQSocket) throws(ZMQError) in
                try common(s)
                try s.setOption(.xpubVerbose, true)
                try s.setOption(.sndhwm, link.sendHighWaterMark)
                try s.setOption(.heartbeatIvl, link.heartbeatSocketZMTPMillis.interval)
                try s.setOption(.heartbeatTimeout, link.heartbeatSocketZMTPMillis.timeout)
                try s.setOption(.tcpMaxrt, link.heartbeatSocketZMTPMillis.maxRetransmit)
                try s.connect(link.heartbeatEndpoint)
            }
            return LoadAgent(id: id, bootID: UUID().uuidString.lowercased(), dealer: dealer, publisher: publisher)
        } catch {
            await dealer.close()
            throw error
        }
    }

    var snapshot: State { state.withLock { $0 } }

    /// Connected on the command socket and subscribed on the heartbeat socket.
    var isReady: Bool { state.withLock { !$0.handshakes.isEmpty && $0.subscribed } }

    /// Follows the sockets until they close: `hello` after every handshake, answers, (un)subscriptions.
    func run(clock: FleetClock) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in self.dealer.events {
                    let now = clock.millis()
                    switch event.kind {
                    case .handshakeSucceeded:
                        self.state.withLock { $0.handshakes.append(now) }
                        self.dealer.send(ZMQMessage(frames: [Messages.frame(self.hello())]))
                    case .disconnected:
                        self.state.withLock { $0.disconnects.append(now) }
                    default:
                        if event.isHandshakeFailure { self.state.withLock { $0.handshakeFailures += 1 } }
                    }
                }
            }
            group.addTask {
                for await message in self.dealer.messages {
                    guard let answer = self.answer(message.frames.last ?? []) else { continue }
                    self.dealer.send(ZMQMessage(frames: [Messages.frame(answer)]))
                    self.state.withLock { $0.requestsAnswered += 1 }
                }
            }
            group.addTask {
                for await event in self.publisher.events where event.kind == .disconnected {
                    self.state.withLock { $0.subscribed = false }
                }
            }
            group.addTask {
                for await message in self.publisher.messages {
                    guard let first = message.frames.first?.first, first <= 1 else { continue }
                    let now = clock.millis()
                    self.state.withLock { state in
                        state.subscribed = first == 1
                        if first == 1 { state.subscriptions.append(now) }
                    }
                }
            }
        }
    }

    /// Publishes the next heartbeat; returns its `seq`.
    @discardableResult
    func heartbeat(intervalMillis: Int) -> Int {
        let seq = state.withLock { state -> Int in
            state.seq += 1
            if !state.subscribed { state.unsubscribedSeqs.append(state.seq) }
            return state.seq
        }
        let message = Messages.heartbeat(
            agentID: id,
            bootID: bootID,
            seq: seq,
            sentAtMillis: Int(Date().timeIntervalSince1970 * 1000),
            intervalMillis: intervalMillis,
            agentVersion: LoadAgent.version,
            running: .null,
            state: currentState
        )
        publisher.send(ZMQMessage(frames: [Array(WireProtocol.heartbeatTopic(id).utf8), Messages.frame(message)]))
        return seq
    }

    func hello() -> JSONValue {
        Messages.hello(
            agentID: id,
            agentVersion: LoadAgent.version,
            bootID: bootID,
            capabilities: ["apply", "teardown", "state", "ping"],
            state: currentState
        )
    }

    /// The state object: the idle one, or the topology recorded by the last apply (in sync, no drift).
    var currentState: JSONValue {
        guard let applied = state.withLock({ $0.applied }) else { return LoadAgent.idleState }
        var object = LoadAgent.idleState.objectValue ?? [:]
        object["topology_id"] = .string(JSONString(applied.id))
        object["applied_version_hash"] = .string(JSONString(applied.hash))
        object["applied_at"] = 1
        return .object(object)
    }

    /// The answer to a request: `state` and `ping` as a real agent answers them; an apply or teardown only records
    /// (and then reports) the topology it names, since a simulated agent has no runtime. The hash is the request's,
    /// which the real agent checks against the blob; load tests of the master's reconcile loop count these.
    func answer(_ frame: [UInt8]) -> JSONValue? {
        let request: Request
        switch RequestDecoder().decode(frame) {
        case .success(let decoded): request = decoded
        case .failure(let rejected): return Messages.failure(id: rejected.id, error: rejected.error)
        }
        let id = request.id
        switch request.body {
        case .state:
            return Messages.result(id: id, body: currentState)
        case .ping:
            return Messages.result(
                id: id,
                body: [
                    "agent_id": .string(JSONString(self.id)), "boot_id": .string(JSONString(bootID)),
                    "agent_version": .string(JSONString(LoadAgent.version)),
                ]
            )
        case .rotateKey:
            return Messages.failure(id: id, error: AgentError(.keyRotationFailed, "a simulated agent keeps its key"))
        case .apply(let apply):
            guard let topologyID = apply.hydrated["topology"]?["id"]?.stringValue else {
                return Messages.failure(id: id, error: AgentError(.invalidTopology, "no topology.id"))
            }
            state.withLock {
                $0.applied = (topologyID, apply.versionHash)
                $0.changes.insert(id)
            }
            return Messages.result(
                id: id,
                body: ["status": "applied", "version_hash": .string(JSONString(apply.versionHash))]
            )
        case .teardown(let topologyID):
            state.withLock {
                if $0.applied?.id == topologyID { $0.applied = nil }
                $0.changes.insert(id)
            }
            return Messages.result(
                id: id,
                body: [
                    "status": "torn_down", "topology_id": .string(JSONString(topologyID)),
                    "removed": ["containers": [], "bridges": []],
                ]
            )
        }
    }

    static let version = "0.0.0-load-agents"

    /// The state object of an agent with nothing applied and nothing observed.
    static let idleState = AgentState.idle.jsonValue
}
