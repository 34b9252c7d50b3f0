import AgentProtocol
import DecnetJSON
import Logging
import Synchronization
import ZeroMQ

/// Enrolment with a one-time token (docs/security.md#enrolment-tokens): when the master refuses this agent's key
/// (a ZAP refusal, `handshakeFailedAuth`), dial the command endpoint once with the token's key pair as the CURVE
/// client key, send one `enrol` (docs/wire-protocol.md#enrol), wait for the answer, hang up.
///
/// ```
///   idle ──auth refusal──▶ enrolling ──enrolled──▶ done (the link re-dials with the agent's own key)
///    ▲                        │  refused (id taken, rejected, ...) ──▶ done (logged; the operator decides)
///    └──── no answer ─────────┘  (token refused at ZAP, master gone, an answer of no known type): again after an
///                                 auth refusal ≥ 10 s later
/// ```
public final class AgentEnroller: Sendable {
    public enum Phase: Sendable, Equatable {
        case idle, enrolling, done
    }
    public let token: EnrolmentToken
    let tokenKeys: CurveKeyPair
    private let clock: @Sendable () -> ContinuousClock.Instant
    /// How long ``enrol(thread:endpoint:masterKey:agentID:agentKeys:logger:)`` waits for the answer.
    let timeout: Duration
    private struct State {
        var phase = Phase.idle
        var lastAttempt: ContinuousClock.Instant?
    }
    private let state = Mutex(State())
    /// How long to wait for the master's answer, and the least time between two attempts.
    public static let answerTimeout = Duration.seconds(5)
    public static let retrySpacing = Duration.seconds(10)

    /// `answerTimeout` (how long to wait for the master's answer) is clamped to 1 ms through ``answerTimeout``; tests
    /// shorten it.
    public init(
        token: EnrolmentToken,
        answerTimeout: Duration = AgentEnroller.answerTimeout,
        clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.token = token
        self.tokenKeys = token.keyPair()
        self.timeout = min(max(answerTimeout, .milliseconds(1)), Self.answerTimeout)
        self.clock = clock
    }

    public var phase: Phase { state.withLock { $0.phase } }

    /// Feeds a command-socket event; returns whether an enrolment should start now (and marks it started).
    public func shouldEnrol(after kind: SocketEvent.Kind) -> Bool {
        guard kind == .handshakeFailedAuth else { return false }
        let now = clock()
        return state.withLock { state in
            guard state.phase == .idle else { return false }
            if let last = state.lastAttempt, now - last < Self.retrySpacing { return false }
            state.phase = .enrolling
            state.lastAttempt = now
            return true
        }
    }

    /// One exchange on its own DEALER on `thread`; returns the master's answer (`nil`: none in time).
    public func enrol(
        thread: SocketThread,
        endpoint: String,
        masterKey: CurveKey,
        agentID: String,
        agentKeys: CurveKeyPair,
        logger: Logger
    ) async -> JSONObject? {
        let sealed = EnrolmentProof.seal(
            agent: agentKeys,
            masterKey: masterKey,
            tokenKey: tokenKeys.publicKey,
            agentID: agentID
        )
        let request = Messages.enrol(
            agentID: agentID,
            publicKey: agentKeys.publicKey.z85,
            nonce: Base64URL.encode(sealed.nonce),
            proof: Base64URL.encode(sealed.box)
        )
        let (tokenKeys, timeout) = (self.tokenKeys, self.timeout)
        var answer: JSONObject?
        do {
            let socket = try await thread.open(SocketSetup(.dealer, linger: 0, monitored: false)) {
                (s: ZMQSocket) throws(ZMQError) in
                try s.makeCurveClient(keys: tokenKeys, serverKey: masterKey)
                try s.setOption(.maxMsgSize, 4096 + Int64(ZMQSocket.curveMessageOverhead))
                try s.connect(endpoint)
            }
            _ = socket.send(ZMQMessage(frames: [Messages.frame(request)]))
            answer = await withTaskGroup(of: JSONObject?.self) { group in
                group.addTask {
                    for await message in socket.messages {
                        if let object = (try? JSONParser.parse(message.frames.last ?? []))?.objectValue {
                            return object
                        }
                    }
                    return nil
                }
                group.addTask {
                    try? await Task.sleep(for: timeout)
                    return nil
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
            await socket.close()
        } catch {
            logger.error("cannot open the enrolment socket", metadata: ["error": "\(error)"])
        }
        finish(answer, agentID: agentID, logger: logger)
        return answer
    }

    private func finish(_ answer: JSONObject?, agentID: String, logger: Logger) {
        let type = answer?["type"]?.stringValue
        // Only a known answer ends it; anything else counts as no answer, so a garbled reply never stops retries.
        state.withLock { $0.phase = type == "enrolled" || type == "enrol_refused" ? .done : .idle }
        switch type {
        case "enrolled":
            logger.notice(
                "enrolled with the token; dialling the master with this agent's key",
                metadata: ["agent": "\(agentID)"]
            )
        case "enrol_refused":
            logger.error(
                "the master refused the enrolment; the operator decides (decnet-master keys)",
                metadata: [
                    "code": "\(answer?["code"]?.stringValue ?? "-")",
                    "message": "\(answer?["message"]?.stringValue ?? "-")",
                ]
            )
        case .some:
            logger.warning(
                "the master's answer to the enrolment is of no known type; trying again after a later refusal"
            )
        default:
            logger.warning(
                "no answer to the enrolment (token unknown, expired or used up, or master unreachable); waiting for the operator"
            )
        }
    }
}
