import AgentProtocol
import Logging
import ZeroMQ

extension MasterCore {
    /// A message on the command ROUTER from a connection made with an enrolment token's key
    /// (docs/security.md#enrolment-tokens): the first one is its `enrol` request, answered (`enrolled` or
    /// `enrol_refused`), after which the connection is cut once the answer had time to leave. Anything more is dropped
    /// and counted (`enrolment_only`); a message whose connection cannot be named also cuts it at once. Such a
    /// connection is never routed to: it sends no `hello` and has no agent identity.
    func enrolment(_ message: ZMQMessage, tokenKey: CurveKey) async {
        let connection =
            connections.connection(on: message.sourceDescriptor)
            ?? message.sourceDescriptor.flatMap { PeerConnection(descriptor: $0) }
        guard let connection, message.frames.count == 2, let routingId = message.routingId,
            let enrolment = gate.tokenEnrolment
        else { return drop(.enrolmentOnly, socket: "command", message: message) }
        guard !enrolmentAnswered.contains(connection) else {
            // Already answered and cut after the grace period: counted, not cut now (the answer is still leaving).
            counters.drop(.enrolmentOnly)
            metrics.dropped(.enrolmentOnly)
            return log(
                .warning,
                "message dropped",
                reason: "drop_enrolment_only",
                metadata: ["reason": "enrolment_only", "socket": "command", "bytes": "\(message.byteCount)"]
            )
        }
        if enrolmentAnswered.count >= 64 { enrolmentAnswered = enrolmentAnswered.filter(\.isCurrent) }
        enrolmentAnswered.insert(connection)
        pendingCuts.append((clock() + limits.revokeGraceMillis, connection, .enrolmentOnly))
        let outcome = enrolment.enrol(tokenKey: tokenKey, frame: message.frames[1])
        _ = await outlets.toAgent(routingId, Messages.frame(outcome.envelope))
        var metadata: Logger.Metadata = [
            "code": "\(outcome.code)", "token": "\(tokenKey.shortFingerprint)",
            "peer": "\(LogText.escaped(connection.remote))",
        ]
        if let agentID = outcome.agentID { metadata["agent"] = "\(agentID)" }
        if let key = outcome.key { metadata["fingerprint"] = "\(key.fingerprint)" }
        if outcome.enrolledNow {
            logger.notice("agent enrolled with a token", metadata: metadata)
        } else {
            log(.warning, "enrolment by token refused or repeated", reason: "token_enrol", metadata: metadata)
        }
    }
}
