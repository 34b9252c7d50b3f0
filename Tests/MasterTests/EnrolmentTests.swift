import Foundation
import Logging
import Master
import Synchronization
import TestSupport
import Testing
import ZeroMQ

/// Pending, rejected and accepted keys without sockets: the records' bounds, the ZAP decisions and the operator's
/// commands (docs/security.md#enrolment). The same end to end, with the real binaries: interop/test_enrolment.py.
@Suite("Enrolment")
struct EnrolmentTests {
    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        private let now = Mutex<Int64>(1_000_000)
        func advance(_ millis: Int64) { now.withLock { $0 += millis } }
        var read: @Sendable () -> Int64 { { self.now.withLock { $0 } } }
    }

    func freshKey() throws -> CurveKey { try CurveKeyPair.generate().publicKey }

    func request(_ key: CurveKey, address: String = "192.0.2.7", domain: String = "decnet") -> ZAPRequest {
        ZAPRequest(
            requestID: [1],
            domain: domain,
            address: address,
            routingId: [],
            mechanism: "CURVE",
            credentials: [key.bytes]
        )
    }

    func jsonFiles(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".json") }
    }

    @Test func theFingerprintIsTheSHA256OfTheKeyBytesInHex() throws {
        // SHA-256 of 32 zero bytes.
        let zero = try CurveKey(bytes: [UInt8](repeating: 0, count: 32))
        #expect(zero.fingerprint == "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925")
        #expect(zero.shortFingerprint == "66687aadf862bd77")
        #expect(CurveKey.fingerprintPrefix("6668:7AAD") == "66687aad")
        #expect(CurveKey.fingerprintPrefix("6668") == nil)
        #expect(CurveKey.fingerprintPrefix("host-17-x") == nil)
    }

    @Test func newKeysAreRateLimitedAndCappedWithTheLeastRecentEvicted() throws {
        let folder = try TemporaryDirectory("pending")
        defer { folder.remove() }
        let clock = ManualClock()
        var limits = PendingKeys.Limits()
        limits.capacity = 5
        limits.newPerWindow = 3
        limits.windowMillis = 60_000
        let wall = ManualClock()
        let pending = try PendingKeys(directory: folder.path, limits: limits, clock: clock.read, wallClock: wall.read)
        var keys: [CurveKey] = []
        for _ in 0..<4 {
            keys.append(try freshKey())
            wall.advance(1)
        }
        #expect(pending.note(keys[0], address: "a") == .recorded)
        wall.advance(1)
        #expect(pending.note(keys[1], address: "a") == .recorded)
        wall.advance(1)
        #expect(pending.note(keys[2], address: "a") == .recorded)
        #expect(pending.note(keys[3], address: "a") == .rateLimited)
        #expect(jsonFiles(folder.path).count == 3)
        // A known key is not limited by the window.
        #expect(pending.note(keys[0], address: "b") == .seenAgain)
        clock.advance(60_000)
        var more: [CurveKey] = []
        for _ in 0..<3 {
            let key = try freshKey()
            more.append(key)
            wall.advance(1)
            #expect(pending.note(key, address: "c") == .recorded)
        }
        // Capacity 5: the sixth key evicted the one seen least recently (keys[1]; keys[0] was seen again).
        let held = Set(pending.entries.map(\.key))
        #expect(held.count == 5)
        #expect(!held.contains(keys[1]) && held.contains(keys[0]))
        #expect(jsonFiles(folder.path).count == 5)
        #expect(!FileManager.default.fileExists(atPath: folder.file(keys[1].fingerprint + ".json")))
        #expect(pending.statistics.evicted == 1 && pending.statistics.rateLimited == 1)
    }

    @Test func aKnownKeysFileIsRewrittenAtMostOncePerInterval() throws {
        let folder = try TemporaryDirectory("pending")
        defer { folder.remove() }
        let clock = ManualClock()
        let pending = try PendingKeys(directory: folder.path, clock: clock.read)
        let key = try freshKey()
        pending.note(key, address: "10.0.0.1")
        for _ in 0..<50 { pending.note(key, address: "10.0.0.2") }
        let path = folder.file(key.fingerprint + ".json")
        let onDisk = try #require(PendingKeys.read(folder.path).first)
        #expect(onDisk.attempts == 1 && onDisk.address == "10.0.0.1")
        clock.advance(10_000)
        pending.note(key, address: "10.0.0.3")
        let rewritten = try #require(PendingKeys.read(folder.path).first)
        #expect(rewritten.attempts == 52 && rewritten.address == "10.0.0.3")
        #expect(FileManager.default.fileExists(atPath: path))
        // Nothing but the records themselves: no temporary files are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [key.fingerprint + ".json"])
    }

    @Test func recordsThatAreNotOursAreSkippedAndAForgedFingerprintIsRefused() throws {
        let folder = try TemporaryDirectory("pending")
        defer { folder.remove() }
        let key = try freshKey()
        let other = try freshKey()
        let forged =
            #"{"public_key":"\#(key.z85)","fingerprint":"\#(other.fingerprint)","address":"x","first_seen_ms":1,"#
            + #""last_seen_ms":2,"attempts":1}"#
        try forged.write(toFile: folder.file(other.fingerprint + ".json"), atomically: true, encoding: .utf8)
        try "{".write(toFile: folder.file("broken.json"), atomically: true, encoding: .utf8)
        let misnamed =
            #"{"public_key":"\#(key.z85)","address":"x","first_seen_ms":1,"last_seen_ms":2,"attempts":1}"#
        try misnamed.write(toFile: folder.file("0000000000.json"), atomically: true, encoding: .utf8)
        #expect(PendingKeys.read(folder.path).isEmpty)
    }

    @Test func theAuthoriserAdmitsListedKeysRefusesRejectedOnesQuietlyAndRecordsTheRest() throws {
        let master = try TemporaryDirectory("enrol-master")
        defer { master.remove() }
        let directory = MasterDirectory(master.path)
        try FileManager.default.createDirectory(atPath: directory.agentsPath, withIntermediateDirectories: true)
        let listed = try ZMQCertificate.generate(metadata: ["role": "agent"])
        try listed.write(directory: directory.agentsPath, name: "alpha")
        let allowList = try AllowListAuthoriser(directory: directory.agentsPath)
        let authoriser = EnrolmentAuthoriser(
            allowList: allowList,
            rejected: KeyFolder(directory: directory.rejectedPath),
            pending: try PendingKeys(directory: directory.pendingPath),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        #expect(authoriser.authorise(request(listed.publicKey)) == .allow(userId: listed.publicKey.z85))
        let stranger = try freshKey()
        guard case .deny = authoriser.authorise(request(stranger)) else {
            Issue.record("an unknown key was admitted")
            return
        }
        #expect(jsonFiles(directory.pendingPath) == [stranger.fingerprint + ".json"])
        // Another domain and another mechanism are refused without a record.
        _ = authoriser.authorise(request(try freshKey(), domain: "other"))
        _ = authoriser.authorise(
            ZAPRequest(
                requestID: [1],
                domain: "decnet",
                address: "x",
                routingId: [],
                mechanism: "NULL",
                credentials: []
            )
        )
        #expect(jsonFiles(directory.pendingPath).count == 1)
        // Rejected by the operator: refused, counted, no record.
        let registry = KeyRegistry(directory: directory)
        try registry.reject(stranger.fingerprint)
        #expect(jsonFiles(directory.pendingPath).isEmpty)
        for _ in 0..<3 { _ = authoriser.authorise(request(stranger)) }
        #expect(authoriser.statistics.rejectedRefused == 3)
        #expect(jsonFiles(directory.pendingPath).isEmpty)
        // Accepted: admitted at the next handshake, no restart.
        try registry.accept(stranger.fingerprint, id: "bravo")
        #expect(authoriser.authorise(request(stranger)) == .allow(userId: stranger.z85))
        #expect(allowList.identity(for: stranger) == "bravo")
    }

    @Test func operatorCommandsRefuseBadInputAndChangeNothing() throws {
        let master = try TemporaryDirectory("enrol-master")
        defer { master.remove() }
        let directory = MasterDirectory(master.path)
        try FileManager.default.createDirectory(atPath: directory.agentsPath, withIntermediateDirectories: true)
        let pending = try PendingKeys(directory: directory.pendingPath)
        let first = try freshKey()
        let second = try freshKey()
        pending.note(first, address: "10.1.1.1")
        pending.note(second, address: "10.1.1.2")
        let registry = KeyRegistry(directory: directory)
        let before = registry.list()
        #expect(before.map(\.state) == [.pending, .pending])

        func code(_ body: () throws(MasterError) -> KeyRegistry.Entry) -> MasterError.Code? {
            do {
                _ = try body()
                return nil
            } catch {
                return error.code
            }
        }
        #expect(code { () throws(MasterError) in try registry.accept(first.fingerprint, id: "../x") } == .badRequest)
        #expect(code { () throws(MasterError) in try registry.accept("0000", id: "a") } == .noSuchKey)
        #expect(code { () throws(MasterError) in try registry.accept("nobody-here", id: "a") } == .noSuchKey)
        #expect(code { () throws(MasterError) in try registry.delete("nobody") } == .noSuchKey)
        #expect(registry.list() == before)

        let accepted = try registry.accept(String(first.fingerprint.prefix(8)), id: "alpha")
        #expect(accepted.state == .accepted && accepted.id == "alpha")
        // The id is taken: the second key cannot have it, and nothing changes.
        let taken = code { () throws(MasterError) in try registry.accept(second.fingerprint, id: "alpha") }
        #expect(taken == .conflict)
        #expect(registry.list().map(\.state) == [.accepted, .pending])
        let certificate = try ZMQCertificate.load(path: directory.agentsPath + "/alpha.key")
        #expect(certificate.publicKey == first && certificate.agentID == "alpha" && certificate.role == "agent")
        // An accepted key by id: reject revokes it (the agents/ entry goes), delete forgets it.
        try registry.reject("alpha")
        #expect(!FileManager.default.fileExists(atPath: directory.agentsPath + "/alpha.key"))
        #expect(registry.list().map(\.state) == [.pending, .rejected])
        try registry.delete(first.fingerprint)
        try registry.delete(second.fingerprint)
        #expect(registry.list().isEmpty)
    }
}

extension EnrolmentTests {
    /// docs/security.md#key-rotation: an agent that answers `prepare` with a key another entry lists (another agent's
    /// public key) must not get it listed twice, which would lock that agent out.
    @Test func aRotationRefusesANextKeyThatIsListedOrRejectedAlready() throws {
        let master = try TemporaryDirectory("enrol-master")
        defer { master.remove() }
        let directory = MasterDirectory(master.path)
        try FileManager.default.createDirectory(atPath: directory.agentsPath, withIntermediateDirectories: true)
        let alpha = try freshKey()
        let bravo = try freshKey()
        try ZMQCertificate(publicKey: alpha, metadata: ["agent-id": "alpha"]).write(
            directory: directory.agentsPath,
            name: "alpha"
        )
        try ZMQCertificate(publicKey: bravo, metadata: ["agent-id": "bravo"]).write(
            directory: directory.agentsPath,
            name: "bravo"
        )
        let rollover = AgentKeyRollover(directory: directory, agentID: "alpha")
        #expect(try rollover.currentKey() == alpha)
        #expect(throws: MasterError.self) { try rollover.enrolNext(bravo) }
        #expect(throws: MasterError.self) { try rollover.enrolNext(alpha) }
        let rejected = try freshKey()
        let pending = try PendingKeys(directory: directory.pendingPath)
        pending.note(rejected, address: "10.0.0.9")
        try KeyRegistry(directory: directory).reject(rejected.fingerprint)
        #expect(throws: MasterError.self) { try rollover.enrolNext(rejected) }
        #expect(rollover.nextKey() == nil)
        let fresh = try freshKey()
        try rollover.enrolNext(fresh)
        // A retry with the same next key is fine; then the rename makes it the agent's only key.
        try rollover.enrolNext(fresh)
        #expect(rollover.nextKey() == fresh)
        try rollover.finish()
        #expect(try rollover.currentKey() == fresh && rollover.nextKey() == nil)
        let unknown = AgentKeyRollover(directory: directory, agentID: "charlie")
        #expect(throws: MasterError.self) { try unknown.currentKey() }
    }
}
