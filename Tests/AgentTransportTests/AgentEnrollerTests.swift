import AgentProtocol
import DecnetJSON
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing
import ZeroMQ

@testable import AgentTransport

/// The agent's side of token enrolment (docs/security.md#enrolment-tokens, docs/wire-protocol.md#enrol) against a
/// master in miniature over real CURVE on loopback: what the enroller sends, what it makes of each answer, and that
/// the token never leaves in clear.
@Suite(.serialized) struct AgentEnrollerTests {
    static let agentID = "host-17"

    @Test func anAcceptedEnrolmentSendsAProofOfTheAgentsKeyForItsIdOverTheTokensKeyAndEndsIt() async throws {
        try await EnrolMaster.run(admitToken: true) { master in
            let fixture = try Fixture()
            let served = master.answer(with: [
                Messages.frame(["proto": 1, "type": "enrolled", "agent_id": JSONValue(Self.agentID)])
            ])
            #expect(!fixture.enroller.shouldEnrol(after: .handshakeFailedNoDetail))
            #expect(!fixture.enroller.shouldEnrol(after: .handshakeSucceeded))
            #expect(fixture.enroller.shouldEnrol(after: .handshakeFailedAuth))
            #expect(fixture.enroller.phase == .enrolling)

            let answer = await fixture.enrol(master)
            #expect(answer?["type"]?.stringValue == "enrolled")
            #expect(fixture.enroller.phase == .done)
            fixture.clock.advance(by: .seconds(60))
            #expect(!fixture.enroller.shouldEnrol(after: .handshakeFailedAuth), "an enrolled agent never enrols again")

            // The handshake was made with the token's key, never the agent's own.
            let tokenKey = fixture.token.keyPair().publicKey
            #expect(master.askedKeys == [tokenKey])
            let request = try #require(await served.value)
            #expect(request.userId == "enrol " + tokenKey.z85)
            #expect(request.body.count == 1)
            let body = try #require(try JSONParser.parse(request.frames.last ?? []).objectValue)
            #expect(Set(body.keys.map(\.description)) == ["proto", "type", "agent_id", "public_key", "nonce", "proof"])
            #expect(body["proto"]?.intValue == 1 && body["type"]?.stringValue == "enrol")
            #expect(body["agent_id"]?.stringValue == Self.agentID)
            #expect(body["public_key"]?.stringValue == fixture.agentKeys.publicKey.z85)
            let nonce = try #require(Base64URL.decode(body["nonce"]?.stringValue ?? "-"))
            let proof = try #require(Base64URL.decode(body["proof"]?.stringValue ?? "-"))
            #expect(nonce.count == EnrolmentProof.nonceCount)
            let opens = { (agentKey: CurveKey, token: CurveKey, id: String) in
                EnrolmentProof.verify(
                    nonce: nonce,
                    box: proof,
                    agentKey: agentKey,
                    master: master.keys,
                    tokenKey: token,
                    agentID: id
                )
            }
            #expect(
                opens(fixture.agentKeys.publicKey, tokenKey, Self.agentID),
                "the proof opens for this key, token, id"
            )
            #expect(!opens(fixture.agentKeys.publicKey, tokenKey, "host-18"), "and for no other id")
            #expect(!opens(fixture.agentKeys.publicKey, EnrolmentToken.generate().keyPair().publicKey, Self.agentID))
            #expect(!opens(try CurveKeyPair.generate().publicKey, tokenKey, Self.agentID), "nor another agent key")

            // No form of the token or of either secret key is in what the master received.
            let sent = request.frames.flatMap { $0 }
            for (what, secret) in fixture.secretForms() {
                #expect(sent.firstRange(of: secret) == nil, "the request carries \(what)")
            }
            #expect(fixture.logs.entries.allSatisfy { !$0.text.contains(fixture.token.text) })
            #expect(fixture.logs.entries.contains { $0.level == .notice && $0.message.hasPrefix("enrolled with") })
        }
    }

    @Test(arguments: ["token_spent", "id_taken"])
    func aRefusalIsFinalAndLoggedWithItsCode(code: String) async throws {
        try await EnrolMaster.run(admitToken: true) { master in
            let fixture = try Fixture()
            let served = master.answer(with: [
                Messages.frame([
                    "proto": 1, "type": "enrol_refused", "code": JSONValue(code), "message": "refused here",
                ])
            ])
            #expect(fixture.enroller.shouldEnrol(after: .handshakeFailedAuth))
            let answer = await fixture.enrol(master)
            #expect(try #require(await served.value).frames.count == 2)
            #expect(answer?["type"]?.stringValue == "enrol_refused" && answer?["code"]?.stringValue == code)
            #expect(fixture.enroller.phase == .done)
            fixture.clock.advance(by: AgentEnroller.retrySpacing * 3)
            #expect(!fixture.enroller.shouldEnrol(after: .handshakeFailedAuth), "a refusal is not retried")
            #expect(
                fixture.logs.entries.contains {
                    $0.level == .error && $0.message.hasPrefix("the master refused") && $0.metadata["code"] == code
                }
            )
        }
    }

    @Test func aTokenRefusedAtTheHandshakeGetsNoAnswerAndIsTriedAgainOnlyAfterTheSpacing() async throws {
        // An expired, used-up or revoked token: the master's ZAP refuses its key, so no message ever flows.
        try await EnrolMaster.run(admitToken: false) { master in
            let fixture = try Fixture(answerTimeout: .seconds(2))
            #expect(fixture.enroller.shouldEnrol(after: .handshakeFailedAuth))
            let answer = await fixture.enrol(master)
            #expect(answer == nil)
            #expect(master.askedKeys.first == fixture.token.keyPair().publicKey, "the token's key was refused")
            #expect(fixture.enroller.phase == .idle)
            fixture.clock.advance(by: AgentEnroller.retrySpacing - .seconds(1))
            #expect(!fixture.enroller.shouldEnrol(after: .handshakeFailedAuth), "not again within the spacing")
            fixture.clock.advance(by: .seconds(1))
            #expect(fixture.enroller.shouldEnrol(after: .handshakeFailedAuth), "again once the spacing passed")
            #expect(fixture.logs.entries.contains { $0.level == .warning && $0.message.hasPrefix("no answer") })
        }
    }

    @Test func framesThatAreNotAnAnswerAreSkippedAndAnUnknownAnswerCountsAsNone() async throws {
        try await EnrolMaster.run(admitToken: true) { master in
            let fixture = try Fixture()
            _ = master.answer(with: [
                Array("not json {".utf8), Array("[1, 2]".utf8), Array("{\"type\":\"welcome\"}".utf8),
            ])
            #expect(fixture.enroller.shouldEnrol(after: .handshakeFailedAuth))
            let answer = await fixture.enrol(master)
            #expect(answer?["type"]?.stringValue == "welcome", "the first JSON object is the answer")
            #expect(fixture.enroller.phase == .idle, "an answer of no known type does not end enrolment")
            fixture.clock.advance(by: AgentEnroller.retrySpacing)
            #expect(fixture.enroller.shouldEnrol(after: .handshakeFailedAuth))
            #expect(fixture.logs.entries.contains { $0.level == .warning && $0.message.contains("no known type") })
        }
    }

    @Test func noAnswerInTimeEndsTheAttemptAndHangsUp() async throws {
        try await EnrolMaster.run(admitToken: true) { master in
            let fixture = try Fixture(answerTimeout: .milliseconds(500))
            let events = Recorder(master.router.events)
            let served = master.answer(with: [])
            #expect(fixture.enroller.shouldEnrol(after: .handshakeFailedAuth))
            let answer = await fixture.enrol(master)
            #expect(try #require(await served.value).userId?.hasPrefix("enrol ") == true, "the request arrived")
            #expect(answer == nil)
            #expect(fixture.enroller.phase == .idle)
            #expect(await events.first { $0.kind == .disconnected } != nil, "the enroller closed its connection")
        }
    }
}

/// One agent's enrolment: a token, the agent's own key pair, an enroller on a manual clock, captured logs.
private struct Fixture {
    let token = EnrolmentToken.generate()
    let agentKeys: CurveKeyPair
    let clock = FakeInstant()
    let enroller: AgentEnroller
    let logs = LogCapture()

    init(answerTimeout: Duration = AgentEnroller.answerTimeout) throws {
        agentKeys = try CurveKeyPair.generate()
        let clock = self.clock
        enroller = AgentEnroller(token: token, answerTimeout: answerTimeout) { clock.now }
    }

    func enrol(_ master: EnrolMaster) async -> JSONObject? {
        await enroller.enrol(
            thread: master.agentThread,
            endpoint: master.endpoint,
            masterKey: master.keys.publicKey,
            agentID: AgentEnrollerTests.agentID,
            agentKeys: agentKeys,
            logger: logs.logger("enroller")
        )
    }

    /// Every form in which the token or a secret key could leak: raw bytes, the token text and its base64url, hex,
    /// Z85 of the secret keys.
    func secretForms() -> [(String, [UInt8])] {
        let tokenBytes = token.secret.withUnsafeBytes { Array($0) }
        let tokenSecret = token.keyPair().secretKey.withUnsafeBytes { Array($0) }
        let agentSecret = agentKeys.secretKey.withUnsafeBytes { Array($0) }
        let hex = tokenBytes.map { String(format: "%02x", $0) }.joined()
        return [
            ("the token text", Array(token.text.utf8)), ("the token's bytes", tokenBytes),
            ("the token's base64url", Array(Base64URL.encode(tokenBytes).utf8)), ("the token in hex", Array(hex.utf8)),
            ("the token's secret key", tokenSecret), ("its Z85", Array(token.keyPair().secretKeyZ85.utf8)),
            ("the agent's secret key", agentSecret), ("its Z85", Array(agentKeys.secretKeyZ85.utf8)),
        ]
    }
}

/// The enroller's clock: a continuous instant the test moves by hand.
private final class FakeInstant: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func advance(by duration: Duration) { instant.withLock { $0 += duration } }
}

/// The master's side in miniature: a ZAP handler that admits the token's key only when told to (with the master's
/// User-Id `enrol <Z85>`) and records every key it is asked about, and a monitored CURVE ROUTER on loopback. The
/// agent's sockets live on their own thread of the same context.
private final class EnrolMaster: Sendable {
    let context: ZMQContext
    let zap: ZAPHandler
    let keys: CurveKeyPair
    let thread: SocketThread
    let agentThread: SocketThread
    let router: SocketHandle
    let endpoint: String
    private let asked: Locked<[CurveKey]>

    var askedKeys: [CurveKey] { asked.withLock { $0 } }

    private init(admitToken: Bool) async throws {
        context = try ZMQContext()
        let asked = Locked<[CurveKey]>([])
        self.asked = asked
        zap = try ZAPHandler(
            context: context,
            authoriser: ClosureAuthoriser { request in
                guard let key = request.clientPublicKey else { return .deny("no CURVE key") }
                asked.withLock { $0.append(key) }
                return admitToken ? .allow(userId: "enrol " + key.z85) : .deny("token expired")
            }
        )
        try await zap.start()
        keys = try CurveKeyPair.generate()
        thread = try SocketThread(context: context, name: "enrol-master")
        agentThread = try SocketThread(context: context, name: "enrol-agent")
        let keys = self.keys
        router = try await thread.open(.router, linger: 0, monitored: true) { (s: ZMQSocket) throws(ZMQError) in
            try s.makeCurveServer(keys: keys, zapDomain: "decnet")
            try s.bind("tcp://127.0.0.1:*")
        }
        endpoint = try await router.lastEndpoint()
    }

    static func run(admitToken: Bool, _ body: (EnrolMaster) async throws -> Void) async throws {
        let master = try await EnrolMaster(admitToken: admitToken)
        do {
            try await body(master)
        } catch {
            await master.shutdown()
            throw error
        }
        await master.shutdown()
    }

    /// Waits (at most 20 s) for the first request, sends each of `frames` back to its sender, returns the request.
    func answer(with frames: [[UInt8]]) -> Task<ZMQMessage?, Never> {
        let router = self.router
        return Task {
            (try? await within(20, "the enrol request") { () async -> ZMQMessage? in
                for await message in router.messages {
                    for frame in frames { _ = router.send(ZMQMessage(frames: [message.routingId ?? [], frame])) }
                    return message
                }
                return nil
            }) ?? nil
        }
    }

    func shutdown() async {
        await agentThread.shutdown()
        await thread.shutdown()
        await zap.stop()
        await context.terminateOffPool()
    }
}
