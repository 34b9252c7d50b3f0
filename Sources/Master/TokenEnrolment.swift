import AgentProtocol
import DecnetJSON
import Foundation
import Synchronization
import ZeroMQ

/// The master's answer to one `enrol` request on a token connection (docs/wire-protocol.md#enrol,
/// docs/security.md#enrolment-tokens): checks the request strictly, then spends one use of the token and writes
/// `agents/ID.key`, in that order.
public final class TokenEnrolment: Sendable {
    /// The outcome: `enrolled` (or already enrolled: a retry), or refused with a stable code.
    public struct Outcome: Sendable, Equatable, Error {
        public var code: String
        public var message: String
        public var agentID: String?
        public var key: CurveKey?
        /// A use was spent and `agents/ID.key` written.
        public var enrolledNow = false

        public var isEnrolled: Bool { code == "enrolled" }

        static func refused(_ code: String, _ message: String) -> Outcome { Outcome(code: code, message: message) }

        /// The envelope sent back: `enrolled` or `enrol_refused`.
        public var envelope: JSONValue {
            var object = JSONObject()
            object["proto"] = JSONValue(WireProtocol.version)
            if isEnrolled {
                object["type"] = JSONValue("enrolled")
                object["agent_id"] = JSONValue(agentID ?? "")
                object["fingerprint"] = JSONValue(key?.fingerprint ?? "")
            } else {
                object["type"] = JSONValue("enrol_refused")
                object["code"] = JSONValue(code)
                object["message"] = JSONValue(message)
            }
            return .object(object)
        }
    }

    /// Enrolments done (a use spent and an entry written) and requests refused.
    public struct Statistics: Sendable, Equatable {
        public var enrolled = 0
        public var refused = 0
        public init() {}
    }
    private let counts = Mutex(Statistics())
    public var statistics: Statistics { counts.withLock { $0 } }

    /// The largest `enrol` envelope read; larger ones are refused unread.
    public static let maxRequestBytes = 1024

    public let directory: MasterDirectory
    public let tokens: EnrolmentTokens
    public let rejected: KeyFolder
    public let masterKeys: CurveKeyPair

    public init(directory: MasterDirectory, tokens: EnrolmentTokens, rejected: KeyFolder, masterKeys: CurveKeyPair) {
        self.directory = directory
        self.tokens = tokens
        self.rejected = rejected
        self.masterKeys = masterKeys
    }

    /// Decides one request sent on the connection of token key `tokenKey`, and counts the outcome.
    public func enrol(tokenKey: CurveKey, frame: [UInt8]) -> Outcome {
        let outcome = decideRequest(tokenKey: tokenKey, frame: frame)
        counts.withLock { counts in
            if outcome.enrolledNow { counts.enrolled += 1 }
            if !outcome.isEnrolled { counts.refused += 1 }
        }
        return outcome
    }

    private func decideRequest(tokenKey: CurveKey, frame: [UInt8]) -> Outcome {
        guard frame.count <= Self.maxRequestBytes else {
            return .refused("too_large", "an enrol request is at most \(Self.maxRequestBytes) bytes")
        }
        let request: (agentID: String, key: CurveKey, nonce: [UInt8], proof: [UInt8])
        switch Self.decode(frame) {
        case .success(let value): request = value
        case .failure(let outcome): return outcome
        }
        guard request.key != tokenKey, request.key != masterKeys.publicKey, tokens.record(for: request.key) == nil
        else { return .refused("bad_request", "public_key is a token's or the master's key") }
        guard
            EnrolmentProof.verify(
                nonce: request.nonce,
                box: request.proof,
                agentKey: request.key,
                master: masterKeys,
                tokenKey: tokenKey,
                agentID: request.agentID
            )
        else { return .refused("bad_proof", "the proof does not open with public_key for this token and agent id") }
        guard !rejected.contains(request.key) else {
            return .refused("key_rejected", "the operator rejected this key")
        }
        do {
            return try tokens.locked { () throws(MasterError) -> Outcome in
                try decide(tokenKey: tokenKey, agentID: request.agentID, key: request.key)
            }
        } catch {
            return .refused("internal", "the master could not record the enrolment (\(error.code))")
        }
    }

    /// Under the tokens lock: the id's entry, the key's other entries, then spend, then write.
    private func decide(tokenKey: CurveKey, agentID: String, key: CurveKey) throws(MasterError) -> Outcome {
        let entries = KeyFolder.certificates(in: directory.agentsPath)
        let path = directory.agentsPath + "/" + agentID + ZMQCertificate.publicSuffix
        var enrolled = Outcome(code: "enrolled", message: "enrolled", agentID: agentID, key: key)
        if FileManager.default.fileExists(atPath: path) {
            // A token holder must never replace another agent's key: that would lock the agent out.
            guard entries.contains(where: { $0.name == agentID && $0.certificate.publicKey == key }) else {
                return .refused("id_taken", "agent id \(agentID) already has another key")
            }
            return enrolled  // a retry of an enrolment that went through: no use spent
        }
        if let other = entries.first(where: { $0.certificate.publicKey == key }) {
            return .refused("key_in_use", "this key is already listed as \(other.name)")
        }
        // The use is spent before the entry is written: a crash in between loses a use, never grants an extra one.
        do {
            try tokens.spendHoldingLock(tokenKey)
        } catch  where error.code == .conflict {
            return .refused("token_spent", "the token is expired, used up or revoked")
        }
        let certificate = ZMQCertificate(publicKey: key, metadata: ["role": "agent", "agent-id": agentID])
        do {
            try certificate.write(directory: directory.agentsPath, name: agentID, overwrite: false)
        } catch {
            throw MasterError(.io, operation: "write \(path)", message: error.message)
        }
        _ = unlink(directory.pendingPath + "/" + key.fingerprint + PendingKey.suffix)
        enrolled.enrolledNow = true
        return enrolled
    }

    /// Strict decoding: an object with exactly `proto`, `type` = `enrol`, `agent_id`, `public_key`, `nonce`, `proof`.
    static func decode(
        _ frame: [UInt8]
    ) -> Result<(agentID: String, key: CurveKey, nonce: [UInt8], proof: [UInt8]), Outcome> {
        let bad = { (text: String) in Outcome.refused("bad_request", text) }
        guard let object = (try? JSONParser.parse(frame, maxDepth: 4))?.objectValue else {
            return .failure(bad("not a JSON object"))
        }
        let members: Set<String> = ["proto", "type", "agent_id", "public_key", "nonce", "proof"]
        guard Set(object.keys.map(\.value)) == members, object.count == members.count else {
            return .failure(bad("an enrol request has exactly the members \(members.sorted().joined(separator: ", "))"))
        }
        guard object["proto"]?.intValue == WireProtocol.version, object["type"]?.stringValue == "enrol" else {
            return .failure(bad("proto must be \(WireProtocol.version) and type enrol"))
        }
        guard let agentID = object["agent_id"]?.stringValue, AllowListAuthoriser.isValidIdentity(agentID) else {
            return .failure(bad("agent_id is not 1 to 64 of A-Z a-z 0-9 . _ - not starting with '.'"))
        }
        guard let z85 = object["public_key"]?.stringValue, let key = try? CurveKey(z85: z85) else {
            return .failure(bad("public_key is not a 40-character Z85 CURVE key"))
        }
        guard let nonceText = object["nonce"]?.stringValue, let nonce = Base64URL.decode(nonceText),
            nonce.count == EnrolmentProof.nonceCount
        else { return .failure(bad("nonce is not \(EnrolmentProof.nonceCount) bytes of base64url")) }
        guard let proofText = object["proof"]?.stringValue, let proof = Base64URL.decode(proofText) else {
            return .failure(bad("proof is not base64url"))
        }
        return .success((agentID, key, nonce, proof))
    }
}
