import DecnetJSON
import Logging
import Synchronization
import ZeroMQ

/// The ZAP authoriser of the agents' context (docs/security.md#enrolment): the allow-list decides; a CURVE key it
/// refuses is then either a rejected key (refused quietly: counted, never logged, never recorded) or an unknown
/// one, recorded as pending for the operator (``PendingKeys``: capped and rate-limited). Either way the handshake is
/// refused: nothing an unauthenticated peer sends ever reaches the master's sockets.
public final class EnrolmentAuthoriser: ZAPAuthoriser {
    public struct Statistics: Sendable, Equatable {
        /// Handshakes refused because the key is in `rejected/`.
        public var rejectedRefused = 0
        /// Handshakes of unknown keys (recorded, seen again or rate-limited).
        public var unknownRefused = 0
        /// Handshakes admitted with a live enrolment token's key (docs/security.md#enrolment-tokens).
        public var tokenAdmitted = 0
        /// Handshakes with an expired or used-up token's key: refused, counted, never recorded as pending.
        public var tokenRefused = 0
    }

    public let allowList: AllowListAuthoriser
    public let rejected: KeyFolder
    public let pending: PendingKeys
    /// Enrolment by token, when this master serves it.
    public let tokenEnrolment: TokenEnrolment?
    private let logger: Logger
    private let clock: @Sendable () -> Int64
    private struct State {
        var statistics = Statistics()
        var limiter = LogLimiter()
    }
    private let state = Mutex(State())

    public init(
        allowList: AllowListAuthoriser,
        rejected: KeyFolder,
        pending: PendingKeys,
        tokenEnrolment: TokenEnrolment? = nil,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64 = MasterConfiguration.monotonicMillis
    ) {
        self.allowList = allowList
        self.rejected = rejected
        self.pending = pending
        self.tokenEnrolment = tokenEnrolment
        self.logger = logger
        self.clock = clock
    }

    public func authorise(_ request: ZAPRequest) -> ZAPDecision {
        let decision = allowList.authorise(request)
        guard case .deny = decision, let key = request.clientPublicKey, allowList.identity(for: key) == nil,
            allowList.domain == nil || request.domain == allowList.domain
        else {
            if case .allow = decision, let key = request.clientPublicKey { pending.forget(key) }
            return decision
        }
        if rejected.contains(key) {
            state.withLock { $0.statistics.rejectedRefused += 1 }
            return .deny("rejected client key")
        }
        if let tokens = tokenEnrolment?.tokens, let record = tokens.record(for: key) {
            // A token's key: enrolment-only while live (InboundGate.enrolmentUserIdPrefix), never an agent.
            guard record.isLive(now: tokens.wallClock()) else {
                state.withLock { $0.statistics.tokenRefused += 1 }
                return .deny("enrolment token expired or used up")
            }
            state.withLock { $0.statistics.tokenAdmitted += 1 }
            return .allow(userId: InboundGate.enrolmentUserIdPrefix + key.z85)
        }
        let outcome = pending.note(key, address: request.address)
        let now = clock()
        let line = state.withLock { state -> (allowed: Bool, held: Int) in
            state.statistics.unknownRefused += 1
            guard outcome == .recorded else { return (false, 0) }
            return state.limiter.admit("pending_key", now: now)
        }
        if line.allowed {
            var metadata: Logger.Metadata = [
                "fingerprint": "\(key.fingerprint)", "address": "\(LogText.escaped(request.address))",
            ]
            if line.held > 0 { metadata["held_back_since_last"] = "\(line.held)" }
            logger.notice(
                "an unknown agent key is pending; compare its fingerprint with the agent's, then: decnet-master keys accept FINGERPRINT --id AGENT-ID",
                metadata: metadata
            )
        }
        return .deny("unknown client key; pending the operator's approval")
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }
}

extension EnrolmentAuthoriser {
    /// The counters under `fleet.counters.enrolment` (schemas/README.md).
    public var jsonValue: JSONValue {
        let mine = statistics
        let kept = pending.statistics
        let enrolments = tokenEnrolment?.statistics ?? TokenEnrolment.Statistics()
        return [
            "rejected_refused": JSONValue(mine.rejectedRefused), "unknown_refused": JSONValue(mine.unknownRefused),
            "pending": JSONValue(pending.entries.count), "pending_recorded": JSONValue(kept.recorded),
            "pending_evicted": JSONValue(kept.evicted), "pending_rate_limited": JSONValue(kept.rateLimited),
            "pending_write_failures": JSONValue(kept.writeFailures),
            "token_admitted": JSONValue(mine.tokenAdmitted), "token_refused": JSONValue(mine.tokenRefused),
            "token_enrolled": JSONValue(enrolments.enrolled), "token_enrol_refused": JSONValue(enrolments.refused),
        ]
    }
}
