import AgentCore
import AgentProtocol
import DecnetJSON
import Logging
import Synchronization
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// The agent's side of a key rotation (docs/wire-protocol.md#rotate-key, docs/security.md#key-rotation).
///
/// ```
///  using(old) ──prepare──▶ NAME.next.key_secret written (or the one there returned) ── answer: its public key
///      │
///      └──activate──▶ trying(next): both sockets re-dial with it ──command handshake ok──▶ commit: the next
///                         │                                                       files are renamed over NAME.key*
///                         └──refused by ZAP (not enrolled yet)──▶ back to old (the next file stays for a retry)
/// ```
/// Nothing is lost when the agent dies half-way: before the commit it starts again with the old key (still
/// listed on the master until it saw the new one: the commit comes before the new connection's `hello`, and the
/// master sees a key only in a `hello`), and the next file is returned again by the next `prepare`. Killed between
/// the two renames of the commit, it starts with the new secret file and ``finishInterruptedCommit()`` renames the
/// stray `.next` public file too.
/// Requests are idempotent: `prepare` returns the same key until it is committed, `activate` while trying or after
/// the commit only answers.
public final class AgentKeyRotator: AgentKeyRotation {
    /// What the link dials with.
    enum Dial: Equatable {
        case old
        case trying
    }

    private struct State {
        var inUse: CurveKeyPair
        var next: CurveKeyPair?
        var dial = Dial.old
        /// A change of keys the link has not made yet, and from when on it may.
        var switchTo: CurveKeyPair?
        var switchAfter: ContinuousClock.Instant = .now
    }

    /// `NAME.key_secret` of the agent's current key.
    public let secretPath: String
    private let state: Mutex<State>
    private let logger: Logger
    /// A crash point armed by a test (`DECNET_TEST_FAULT`); `nil` in production.
    private let fault: AgentTestFault?
    /// Time for the `activate` answer to leave before the sockets re-dial.
    static let answerGrace: Duration = .milliseconds(500)

    public init(secretPath: String, current: CurveKeyPair, logger: Logger, fault: AgentTestFault? = nil) {
        self.secretPath = secretPath
        self.state = Mutex(State(inUse: current))
        self.logger = logger
        self.fault = fault
    }

    /// Finishes a commit a crash cut between its two renames (docs/security.md#key-rotation): the secret file
    /// already holds the next key, and `NAME.next.key` is left beside the old `NAME.key`. When that stray public
    /// file holds the key in use (and no `.next` secret exists), it is renamed over `NAME.key`; otherwise nothing is
    /// touched. Returns whether it renamed. Run once at start, before the link dials.
    @discardableResult
    public func finishInterruptedCommit() -> Bool {
        let nextPublic = stem + ".next" + ZMQCertificate.publicSuffix
        let current = state.withLock { $0.inUse.publicKey }
        guard secretPath.hasSuffix(ZMQCertificate.secretSuffix), access(nextSecretPath, F_OK) != 0,
            let stray = try? ZMQCertificate.load(path: nextPublic),
            stray.publicKey == current
        else { return false }
        guard rename(nextPublic, stem + ZMQCertificate.publicSuffix) == 0 else {
            logger.error(
                "cannot finish the interrupted key commit",
                metadata: ["problem": "rename \(nextPublic): \(String(cString: strerror(errno)))"]
            )
            return false
        }
        logger.notice(
            "finished a key commit a crash had interrupted",
            metadata: ["fingerprint": "\(current.fingerprint)"]
        )
        return true
    }

    var stem: String { String(secretPath.dropLast(ZMQCertificate.secretSuffix.count)) }
    var nextSecretPath: String { stem + ".next" + ZMQCertificate.secretSuffix }
    var directory: String {
        guard let slash = stem.lastIndex(of: "/") else { return "." }
        let folder = String(stem[..<slash])
        return folder.isEmpty ? "/" : folder
    }
    var name: String { stem.lastIndex(of: "/").map { String(stem[stem.index(after: $0)...]) } ?? stem }

    public func rotate(_ phase: KeyRotationPhase) async -> Result<JSONValue, AgentError> {
        guard secretPath.hasSuffix(ZMQCertificate.secretSuffix) else {
            return .failure(AgentError(.keyRotationFailed, "the agent's key is not a NAME.key_secret file"))
        }
        switch phase {
        case .prepare: return prepare()
        case .activate: return activate()
        }
    }

    private func prepare() -> Result<JSONValue, AgentError> {
        if let existing = try? ZMQCertificate.load(path: nextSecretPath), let pair = existing.keyPair {
            state.withLock { $0.next = pair }
            return .success(answer(next: pair.publicKey))
        }
        do throws(ZMQError) {
            let certificate = try ZMQCertificate.generate(metadata: ["role": "agent"])
            try certificate.write(directory: directory, name: name + ".next", overwrite: false)
            guard let pair = certificate.keyPair else { throw ZMQError(.io, operation: "keygen", message: "no pair") }
            state.withLock { $0.next = pair }
            logger.notice("made the next key pair", metadata: ["fingerprint": "\(pair.publicKey.fingerprint)"])
            return .success(answer(next: pair.publicKey))
        } catch {
            return .failure(
                AgentError(.keyRotationFailed, "cannot write \(nextSecretPath): \(error.message)")
            )
        }
    }

    private func activate() -> Result<JSONValue, AgentError> {
        let outcome = state.withLock { state -> Result<CurveKey, AgentError> in
            if state.next == nil, let pair = (try? ZMQCertificate.load(path: nextSecretPath))?.keyPair {
                state.next = pair
            }
            guard let next = state.next else {
                if state.dial == .old, state.switchTo == nil {
                    return .failure(AgentError(.keyRotationFailed, "no next key: send prepare first"))
                }
                return .success(state.inUse.publicKey)
            }
            if state.dial == .old && state.switchTo == nil {
                state.switchTo = next
                state.switchAfter = .now + Self.answerGrace
                state.dial = .trying
            }
            return .success(next.publicKey)
        }
        return outcome.map { key in
            ["activating": .bool(true), "fingerprint": JSONValue(key.fingerprint), "public_key": JSONValue(key.z85)]
        }
    }

    private func answer(next: CurveKey) -> JSONValue {
        let current = state.withLock { $0.inUse.publicKey }
        return [
            "public_key": JSONValue(next.z85), "fingerprint": JSONValue(next.fingerprint),
            "current_fingerprint": JSONValue(current.fingerprint),
        ]
    }

    // MARK: - The link's side

    /// The key pair both sockets must switch to now, once (after the answer had time to leave).
    func pendingSwitch(now: ContinuousClock.Instant = .now) -> CurveKeyPair? {
        state.withLock { state in
            guard let pair = state.switchTo, now >= state.switchAfter else { return nil }
            state.switchTo = nil
            return pair
        }
    }

    /// Follows the command socket's monitor: the first handshake with the next key commits it; a ZAP refusal of it
    /// goes back to the old key.
    func observe(_ kind: SocketEvent.Kind) {
        switch kind {
        case .handshakeSucceeded:
            let committed = state.withLock { state -> CurveKeyPair? in
                guard state.dial == .trying, state.switchTo == nil, let next = state.next else { return nil }
                state.inUse = next
                state.next = nil
                state.dial = .old
                return next
            }
            if let committed {
                AgentTestFault.trip(.rotateBeforeCommit, armed: fault)
                commit(committed)
            }
        case .handshakeFailedAuth:
            let reverted = state.withLock { state -> Bool in
                guard state.dial == .trying, state.switchTo == nil else { return false }
                state.dial = .old
                state.switchTo = state.inUse
                state.switchAfter = .now
                return true
            }
            if reverted {
                logger.warning("the master refused the next key; dialling with the current one again")
            }
        default:
            break
        }
    }

    /// The next files become the agent's key files: the secret first (it holds both keys), then the public one.
    private func commit(_ pair: CurveKeyPair) {
        var problems: [String] = []
        for suffix in [ZMQCertificate.secretSuffix, ZMQCertificate.publicSuffix] {
            let from = stem + ".next" + suffix
            if rename(from, stem + suffix) != 0 {
                problems.append("rename \(from): \(String(cString: strerror(errno)))")
            }
            if suffix == ZMQCertificate.secretSuffix { AgentTestFault.trip(.rotateMidCommit, armed: fault) }
        }
        if problems.isEmpty {
            logger.notice(
                "the master accepted the next key; it is this agent's key now",
                metadata: ["fingerprint": "\(pair.publicKey.fingerprint)"]
            )
        } else {
            logger.error(
                "the next key is in use but its files could not replace the old ones",
                metadata: ["problems": "\(problems.joined(separator: "; "))"]
            )
        }
    }
}
