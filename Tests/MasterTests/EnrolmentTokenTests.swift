import AgentProtocol
import DecnetJSON
import Foundation
import Logging
import Master
import Synchronization
import TestSupport
import Testing
import ZeroMQ

/// Enrolment tokens without sockets: the token's text and derivation, the master's token records, and the decisions
/// on an `enrol` request (docs/security.md#enrolment-tokens). End to end with the real binaries:
/// interop/test_enrolment_tokens.py.
@Suite("EnrolmentTokens")
struct EnrolmentTokenTests {
    final class WallClock: Sendable {
        private let now = Mutex<Int64>(1_700_000_000_000)
        func advance(_ millis: Int64) { now.withLock { $0 += millis } }
        var read: @Sendable () -> Int64 { { self.now.withLock { $0 } } }
    }

    /// A master directory with `agents/`, `rejected/` and a master key pair.
    struct Fixture {
        let folder: TemporaryDirectory
        let directory: MasterDirectory
        let tokens: EnrolmentTokens
        let clock = WallClock()
        let master: CurveKeyPair
        let enrolment: TokenEnrolment

        init() throws {
            folder = try TemporaryDirectory("tokens")
            directory = MasterDirectory(folder.path + "/master", runPath: folder.path + "/run")
            for path in [directory.path, directory.agentsPath, directory.rejectedPath, directory.runPath] {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            }
            let clock = self.clock
            tokens = EnrolmentTokens(directory: directory.tokensPath, wallClock: clock.read)
            master = try CurveKeyPair.generate()
            enrolment = TokenEnrolment(
                directory: directory,
                tokens: tokens,
                rejected: KeyFolder(directory: directory.rejectedPath, rescanMillis: 0),
                masterKeys: master
            )
        }

        func request(_ id: String, agent: CurveKeyPair, token: CurveKey, proofBy: CurveKeyPair? = nil) -> [UInt8] {
            let sealed = EnrolmentProof.seal(
                agent: proofBy ?? agent,
                masterKey: master.publicKey,
                tokenKey: token,
                agentID: id
            )
            return Messages.frame(
                Messages.enrol(
                    agentID: id,
                    publicKey: agent.publicKey.z85,
                    nonce: Base64URL.encode(sealed.nonce),
                    proof: Base64URL.encode(sealed.box)
                )
            )
        }

        func entry(_ id: String) -> CurveKey? {
            KeyFolder.certificates(in: directory.agentsPath).first { $0.name == id }?.certificate.publicKey
        }
    }

    @Test func theTokenTextRoundTripsAndTheDerivationIsTheDocumentedOne() throws {
        let token = try EnrolmentToken(text: " decnet-enrol-v1.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n")
        #expect(token.text == "decnet-enrol-v1.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")
        // crypto_box_seed_keypair(SHA-256("decnet-enrol-v1" || bytes 0..31)), computed with libsodium from Python.
        #expect(token.keyPair().publicKey.z85 == "f03yZI#[4l/R/qx>FeQN8#Kj^uy<)y2ej+NQ=h{l")
        #expect(token.keyPair().publicKey == token.keyPair().publicKey)
        let fresh = EnrolmentToken.generate()
        #expect(fresh != EnrolmentToken.generate())
        #expect(try EnrolmentToken(text: fresh.text) == fresh)
        #expect(fresh.keyPair().publicKey != token.keyPair().publicKey)
        for bad in [
            "", "decnet-enrol-v2.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
            "decnet-enrol-v1.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            "decnet-enrol-v1.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh",
            "decnet-enrol-v1.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9",
            "decnet-enrol-v1.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdH+8",
        ] {
            #expect(throws: ZMQError.self, "\(bad)") { try EnrolmentToken(text: bad) }
        }
        do {
            _ = try EnrolmentToken(text: "decnet-enrol-v1.secretsecret")
        } catch {
            #expect(!error.message.contains("secretsecret"), "the error never repeats the text")
        }
    }

    @Test func aTokenRecordKeepsOnlyThePublicKeyAndSpendsItsUses() throws {
        let f = try Fixture()
        defer { f.folder.remove() }
        #expect(throws: MasterError.self) { try f.tokens.create(ttlMillis: 500, uses: 1) }
        #expect(throws: MasterError.self) { try f.tokens.create(ttlMillis: 3_600_000, uses: 0) }
        #expect(f.tokens.list().isEmpty)
        let (token, record) = try f.tokens.create(ttlMillis: 3_600_000, uses: 2)
        #expect(record.key == token.keyPair().publicKey && record.usesLeft == 2)
        let path = f.directory.tokensPath + "/" + record.fingerprint + ".json"
        let bytes = try #require(FileManager.default.contents(atPath: path))
        let secretPart = String(token.text.split(separator: ".")[1])
        #expect(!String(decoding: bytes, as: UTF8.self).contains(secretPart))
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(f.tokens.list() == [record])
        #expect(f.tokens.isLive(record.key))
        #expect(try f.tokens.spend(record.key).usesLeft == 1)
        #expect(try f.tokens.spend(record.key).usesLeft == 0)
        #expect(!f.tokens.isLive(record.key))
        #expect(throws: MasterError.self) { try f.tokens.spend(record.key) }
        let (_, other) = try f.tokens.create(ttlMillis: 2000, uses: 5)
        f.clock.advance(2000)
        #expect(!f.tokens.isLive(other.key))
        #expect(throws: MasterError.self) { try f.tokens.spend(other.key) }
        #expect(f.tokens.record(for: other.key)?.usesLeft == 5)
        #expect(throws: MasterError.self) { try f.tokens.revoke("zz") }
        #expect(try f.tokens.revoke(other.id).key == other.key)
        #expect(f.tokens.record(for: other.key) == nil)
        #expect(throws: MasterError.self) { try f.tokens.revoke(other.id) }
        // A record that is not ours (a forged fingerprint, garbage) is not read.
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: f.directory.tokensPath + "/x.json"))
        #expect(f.tokens.list().map(\.key) == [record.key])
    }

    @Test func anEnrolSpendsOneUseWritesTheEntryAndARetrySpendsNothing() throws {
        let f = try Fixture()
        defer { f.folder.remove() }
        let (token, _) = try f.tokens.create(ttlMillis: 3_600_000, uses: 2)
        let tokenKey = token.keyPair().publicKey
        let agent = try CurveKeyPair.generate()
        let outcome = f.enrolment.enrol(tokenKey: tokenKey, frame: f.request("host-1", agent: agent, token: tokenKey))
        #expect(outcome.isEnrolled && outcome.enrolledNow)
        #expect(outcome.envelope.objectValue?["type"]?.stringValue == "enrolled")
        #expect(f.entry("host-1") == agent.publicKey)
        #expect(f.tokens.record(for: tokenKey)?.usesLeft == 1)
        let retry = f.enrolment.enrol(tokenKey: tokenKey, frame: f.request("host-1", agent: agent, token: tokenKey))
        #expect(retry.isEnrolled && !retry.enrolledNow)
        #expect(f.tokens.record(for: tokenKey)?.usesLeft == 1)
        #expect(f.enrolment.statistics.enrolled == 1)
    }

    @Test func aTokenHolderNeverReplacesOrDuplicatesAKeyAndBadRequestsChangeNothing() throws {
        let f = try Fixture()
        defer { f.folder.remove() }
        let (token, _) = try f.tokens.create(ttlMillis: 3_600_000, uses: 5)
        let tokenKey = token.keyPair().publicKey
        let owner = try CurveKeyPair.generate()
        try ZMQCertificate(publicKey: owner.publicKey, metadata: ["role": "agent", "agent-id": "owner"])
            .write(directory: f.directory.agentsPath, name: "owner")
        let thief = try CurveKeyPair.generate()
        func code(_ frame: [UInt8]) -> String { f.enrolment.enrol(tokenKey: tokenKey, frame: frame).code }
        #expect(code(f.request("owner", agent: thief, token: tokenKey)) == "id_taken")
        #expect(code(f.request("other", agent: owner, token: tokenKey)) == "key_in_use")
        // A stolen public key: the proof made with another secret key does not open.
        #expect(code(f.request("victim", agent: owner, token: tokenKey, proofBy: thief)) == "bad_proof")
        // A proof for another token or another id.
        let otherToken = EnrolmentToken.generate().keyPair().publicKey
        #expect(code(f.request("mine", agent: thief, token: otherToken)) == "bad_proof")
        var renamed = f.request("mine", agent: thief, token: tokenKey)
        renamed = Array(
            String(decoding: renamed, as: UTF8.self).replacingOccurrences(of: "\"mine\"", with: "\"yours\"").utf8
        )
        #expect(code(renamed) == "bad_proof")
        #expect(code(f.request("tokenkey", agent: token.keyPair(), token: tokenKey)) == "bad_request")
        #expect(code(Array("junk".utf8)) == "bad_request")
        #expect(code([UInt8](repeating: 0x20, count: 2000)) == "too_large")
        #expect(code(Array(#"{"proto":1,"type":"enrol"}"#.utf8)) == "bad_request")
        var extra = try #require(try JSONParser.parse(f.request("mine", agent: thief, token: tokenKey)).objectValue)
        extra["more"] = JSONValue("x")
        #expect(code(Messages.frame(.object(extra))) == "bad_request")
        #expect(code(f.request("../evil", agent: thief, token: tokenKey)) == "bad_request")
        // A rejected key is never enrolled by a token.
        let rejected = try CurveKeyPair.generate()
        try ZMQCertificate(publicKey: rejected.publicKey, metadata: ["role": "agent"])
            .write(directory: f.directory.rejectedPath, name: rejected.publicKey.fingerprint)
        #expect(code(f.request("rej", agent: rejected, token: tokenKey)) == "key_rejected")
        #expect(f.entry("owner") == owner.publicKey)
        #expect(KeyFolder.certificates(in: f.directory.agentsPath).count == 1)
        #expect(f.tokens.record(for: tokenKey)?.usesLeft == 5)
        #expect(f.enrolment.statistics.refused == 12 && f.enrolment.statistics.enrolled == 0)
    }

    @Test func aSpentTokenIsRefusedAndTheUseIsSpentBeforeTheEntryIsWritten() throws {
        let f = try Fixture()
        defer { f.folder.remove() }
        let (token, _) = try f.tokens.create(ttlMillis: 3_600_000, uses: 1)
        let tokenKey = token.keyPair().publicKey
        // agents/ cannot be written (a file where the folder should be): the use is gone, no entry appears, so a
        // crash or failure between the two writes never grants an extra use.
        try FileManager.default.removeItem(atPath: f.directory.agentsPath)
        try Data().write(to: URL(fileURLWithPath: f.directory.agentsPath))
        let failed = f.enrolment.enrol(
            tokenKey: tokenKey,
            frame: f.request("a", agent: try CurveKeyPair.generate(), token: tokenKey)
        )
        #expect(failed.code == "internal")
        #expect(f.tokens.record(for: tokenKey)?.usesLeft == 0)
        try FileManager.default.removeItem(atPath: f.directory.agentsPath)
        try FileManager.default.createDirectory(atPath: f.directory.agentsPath, withIntermediateDirectories: true)
        let late = f.enrolment.enrol(
            tokenKey: tokenKey,
            frame: f.request("b", agent: try CurveKeyPair.generate(), token: tokenKey)
        )
        #expect(late.code == "token_spent")
        #expect(KeyFolder.certificates(in: f.directory.agentsPath).isEmpty)
    }

    @Test func theAuthoriserAdmitsALiveTokenAsEnrolmentOnlyAndRefusesASpentOne() throws {
        let f = try Fixture()
        defer { f.folder.remove() }
        let pending = try PendingKeys(directory: f.directory.pendingPath)
        let authoriser = EnrolmentAuthoriser(
            allowList: try AllowListAuthoriser(directory: f.directory.agentsPath),
            rejected: KeyFolder(directory: f.directory.rejectedPath),
            pending: pending,
            tokenEnrolment: f.enrolment,
            logger: Logger(label: "test")
        )
        let (token, _) = try f.tokens.create(ttlMillis: 2000, uses: 1)
        let key = token.keyPair().publicKey
        let request = ZAPRequest(
            requestID: [1],
            domain: "decnet",
            address: "192.0.2.9",
            routingId: [],
            mechanism: "CURVE",
            credentials: [key.bytes]
        )
        guard case .allow(let userId) = authoriser.authorise(request) else {
            Issue.record("a live token's key is admitted")
            return
        }
        #expect(userId == InboundGate.enrolmentUserIdPrefix + key.z85)
        #expect(InboundGate.enrolmentKey(userId: userId) == key)
        #expect(InboundGate.enrolmentKey(userId: key.z85) == nil)
        f.clock.advance(2000)
        guard case .deny = authoriser.authorise(request) else {
            Issue.record("an expired token's key is refused")
            return
        }
        #expect(authoriser.statistics.tokenAdmitted == 1 && authoriser.statistics.tokenRefused == 1)
        #expect(pending.entries.isEmpty, "a token's key is never recorded as pending")
        // Nothing a token connection publishes passes the gate, and it is never an agent.
        let gate = InboundGate(maxMessageSize: 1 << 20, agentIdentity: { _ in "x" }, isMonitor: { _ in false })
        let heartbeat = Messages.frame(["proto": 1, "type": "heartbeat"])
        guard
            case .failure(.enrolmentOnly) = gate.admitPublished(
                frames: [Array("hb.x".utf8), heartbeat],
                userId: userId
            )
        else {
            Issue.record("a heartbeat from a token's key is dropped as enrolment_only")
            return
        }
    }
}
