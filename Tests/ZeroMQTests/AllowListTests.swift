import Foundation
import TestSupport
import Testing
import ZeroMQ

/// The allow-list authoriser on its own, with hand-made ZAP requests.
@Suite struct AllowListTests {
    func request(_ key: CurveKey?, domain: String = "decnet", mechanism: String = "CURVE") -> ZAPRequest {
        ZAPRequest(
            requestID: Array("1".utf8),
            domain: domain,
            address: "127.0.0.1",
            routingId: [],
            mechanism: mechanism,
            credentials: key.map { [$0.bytes] } ?? []
        )
    }

    func write(_ key: CurveKey, _ name: String, agentID: String?, in directory: TemporaryDirectory) throws {
        let metadata = agentID.map { ["agent-id": $0] } ?? [:]
        try ZMQCertificate(publicKey: key, metadata: metadata).write(
            directory: directory.path,
            name: name,
            overwrite: true
        )
    }

    @Test func theIdentityIsTheFileNameAndTheUserIdIsTheKey() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let named = try CurveKeyPair.generate().publicKey
        let bare = try CurveKeyPair.generate().publicKey
        try write(named, "host-17", agentID: "host-17", in: directory)
        try write(bare, "pyzmq-client", agentID: nil, in: directory)
        let allowList = try AllowListAuthoriser(directory: directory.path)

        #expect(allowList.authorise(request(named)) == .allow(userId: named.z85))
        #expect(allowList.authorise(request(bare)) == .allow(userId: bare.z85))
        #expect(allowList.identity(forUserId: named.z85) == "host-17")
        #expect(allowList.identity(forUserId: bare.z85) == "pyzmq-client")
        #expect(allowList.identity(forUserId: "host-17") == nil)
        #expect(allowList.identities.count == 2)
        #expect(allowList.isAllowed(identity: "host-17"))
        #expect(allowList.statistics.allowed == 2)
    }

    @Test func metadataNamingAnotherAgentIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let evil = try CurveKeyPair.generate().publicKey
        try write(evil, "evil", agentID: "bravo", in: directory)
        let allowList = try AllowListAuthoriser(directory: directory.path)
        guard case .deny = allowList.authorise(request(evil)) else {
            Issue.record("a key whose metadata names another agent was admitted")
            return
        }
        #expect(!allowList.isAllowed(identity: "bravo") && !allowList.isAllowed(identity: "evil"))
        #expect(allowList.statistics.issues.contains { $0.hasPrefix("evil.key") && $0.contains("bravo") })
    }

    @Test func aListingThatFailsForWantOfDescriptorsKeepsTheLastList() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let key = try CurveKeyPair.generate().publicKey
        try write(key, "host-1", agentID: "host-1", in: directory)
        let allowList = try AllowListAuthoriser(directory: directory.path, rescanInterval: .zero)
        #expect(allowList.identity(forUserId: key.z85) == "host-1")
        // Use up every descriptor below a lowered soft limit, then force a reload.
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let saved = limit
        var held: [Int32] = []
        defer {
            for fd in held { close(fd) }
            var restore = saved
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &restore)
        }
        var lowered = limit
        lowered.rlim_cur = 256
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lowered)
        while true {
            let fd = open("/dev/null", O_RDONLY)
            if fd < 0 { break }
            held.append(fd)
        }
        allowList.reload()
        let underPressure = allowList.identity(forUserId: key.z85)
        for fd in held { close(fd) }
        held.removeAll()
        #expect(underPressure == "host-1")
        #expect(allowList.statistics.issues.contains { $0.contains("keeping the last list") })
    }

    @Test func refusesUnknownKeysOtherMechanismsAndOtherDomains() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let listed = try CurveKeyPair.generate().publicKey
        try write(listed, "host-1", agentID: "host-1", in: directory)
        let allowList = try AllowListAuthoriser(directory: directory.path, domain: "decnet")

        #expect(
            allowList.authorise(request(try CurveKeyPair.generate().publicKey))
                == .deny(status: 400, reason: "unknown client key")
        )
        guard case .deny(400, _) = allowList.authorise(request(nil, mechanism: "NULL")) else {
            Issue.record("a NULL client was admitted")
            return
        }
        guard case .deny(400, _) = allowList.authorise(request(listed, domain: "other")) else {
            Issue.record("another domain was admitted")
            return
        }
        #expect(allowList.statistics.deniedUnknownKey == 1)
        #expect(allowList.statistics.deniedOther == 2)
        #expect(allowList.statistics.allowed == 0)
        let anyDomain = try AllowListAuthoriser(directory: directory.path, domain: nil)
        #expect(anyDomain.authorise(request(listed, domain: "other")) == .allow(userId: listed.z85))
    }

    @Test func followsTheFolderWithoutRestart() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let key = try CurveKeyPair.generate().publicKey
        let allowList = try AllowListAuthoriser(directory: directory.path, rescanInterval: .seconds(3600))
        #expect(allowList.identity(for: key) == nil)

        try write(key, "host-9", agentID: "host-9", in: directory)
        #expect(allowList.identity(for: key) == "host-9")  // added: seen at once
        try FileManager.default.removeItem(atPath: directory.file("host-9.key"))
        #expect(allowList.identity(for: key) == nil)  // removed: refused at once
        try write(key, "host-9", agentID: "host-9", in: directory)
        try FileManager.default.moveItem(
            atPath: directory.file("host-9.key"),
            toPath: directory.file("host-9.key.disabled")
        )
        #expect(allowList.identity(for: key) == nil)  // renamed away from *.key
    }

    @Test func editsInPlaceAreSeenAtOnce() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let key = try CurveKeyPair.generate().publicKey
        let other = try CurveKeyPair.generate().publicKey
        try write(key, "host-1", agentID: "host-1", in: directory)
        // No rescan would ever come: only the folder watch can see the edit.
        let allowList = try AllowListAuthoriser(directory: directory.path, rescanInterval: .seconds(3600))
        #expect(allowList.identity(for: key) == "host-1")
        // Rewrite the file's content (another key) without touching the directory entry.
        let text = try ZMQCertificate(publicKey: other, metadata: ["agent-id": "host-1"]).render(includeSecret: false)
        let handle = try #require(FileHandle(forWritingAtPath: directory.file("host-1.key")))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
        #expect(allowList.identity(for: key) == nil)
        #expect(allowList.identity(for: other) == "host-1")
    }

    /// A master of thousands of agents asks the list on every message: an unchanged folder is never read again.
    @Test func anUnchangedFolderIsReadOnceAndAChangeReadsItAgain() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let keys = try (0..<50).map { _ in try CurveKeyPair.generate().publicKey }
        for (index, key) in keys.enumerated() { try write(key, "host-\(index)", agentID: nil, in: directory) }
        let allowList = try AllowListAuthoriser(directory: directory.path, rescanInterval: .zero)
        let loads = allowList.statistics.loads
        for _ in 0..<20 {
            for (index, key) in keys.enumerated() { #expect(allowList.identity(forUserId: key.z85) == "host-\(index)") }
        }
        #expect(allowList.statistics.loads == loads)
        try FileManager.default.removeItem(atPath: directory.file("host-7.key"))
        #expect(allowList.identity(forUserId: keys[7].z85) == nil)
        #expect(allowList.statistics.loads == loads + 1)
        #expect(allowList.identity(forUserId: keys[8].z85) == "host-8")
        #expect(allowList.statistics.loads == loads + 1)
    }

    @Test func aFolderReplacedByAnotherIsFollowed() throws {
        let parent = try TemporaryDirectory()
        defer { parent.remove() }
        let path = parent.file("agents")
        let old = try CurveKeyPair.generate().publicKey
        let new = try CurveKeyPair.generate().publicKey
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        try ZMQCertificate(publicKey: old, metadata: [:]).write(directory: path, name: "host-1", overwrite: true)
        let allowList = try AllowListAuthoriser(directory: path, rescanInterval: .seconds(3600))
        #expect(allowList.identity(for: old) == "host-1")
        // The operator prepares a new folder beside it and swaps the two.
        let staged = parent.file("agents.new")
        try FileManager.default.createDirectory(atPath: staged, withIntermediateDirectories: false)
        try ZMQCertificate(publicKey: new, metadata: [:]).write(directory: staged, name: "host-1", overwrite: true)
        try FileManager.default.moveItem(atPath: path, toPath: parent.file("agents.old"))
        #expect(allowList.identity(for: old) == nil)  // nothing at the path for a moment: nobody
        try FileManager.default.moveItem(atPath: staged, toPath: path)
        #expect(allowList.identity(for: new) == "host-1")
        #expect(allowList.identity(for: old) == nil)
        // And the new folder is the one watched: a later removal there is seen at once.
        try FileManager.default.removeItem(atPath: path + "/host-1.key")
        #expect(allowList.identity(for: new) == nil)
    }

    @Test func skipsBrokenFilesDuplicatesAndInvalidIdentitiesAndSaysSo() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let good = try CurveKeyPair.generate().publicKey
        let duplicate = try CurveKeyPair.generate().publicKey
        try write(good, "good", agentID: "good", in: directory)
        try write(duplicate, "b-first", agentID: nil, in: directory)
        try write(duplicate, "c-second", agentID: nil, in: directory)
        try write(try CurveKeyPair.generate().publicKey, "d-bad", agentID: ".hidden", in: directory)
        try "not a certificate".write(toFile: directory.file("e-broken.key"), atomically: true, encoding: .utf8)
        try write(try CurveKeyPair.generate().publicKey, "f-secret-only", agentID: "x", in: directory)
        try FileManager.default.moveItem(
            atPath: directory.file("f-secret-only.key"),
            toPath: directory.file("f-secret-only.key_secret")
        )

        let allowList = try AllowListAuthoriser(directory: directory.path)
        // A key listed twice is refused under both names: nobody can tell which entry the operator meant.
        #expect(allowList.identities == [good: "good"])
        let issues = allowList.statistics.issues
        #expect(issues.count == 4)
        #expect(issues.contains { $0.hasPrefix("b-first.key") })
        #expect(issues.contains { $0.hasPrefix("c-second.key") })
        #expect(issues.contains { $0.hasPrefix("d-bad.key") })
        #expect(issues.contains { $0.hasPrefix("e-broken.key") })
    }

    @Test func aMissingFolderIsAnErrorAtStartAndRefusesEveryoneLater() throws {
        #expect(throws: ZMQError.self) { try AllowListAuthoriser(directory: "/nonexistent/allow-list") }
        let directory = try TemporaryDirectory()
        let key = try CurveKeyPair.generate().publicKey
        try write(key, "host-1", agentID: "host-1", in: directory)
        let allowList = try AllowListAuthoriser(directory: directory.path)
        #expect(allowList.identity(for: key) == "host-1")
        directory.remove()
        #expect(allowList.identity(for: key) == nil)
        guard case .deny = allowList.authorise(request(key)) else {
            Issue.record("admitted with the allow-list folder gone")
            return
        }
    }

    @Test(arguments: [
        ("host-17", true), ("a", true), ("A.b_c-9", true), (String(repeating: "x", count: 64), true),
        ("", false), (".hidden", false), ("has space", false), ("ümlaut", false),
        (String(repeating: "x", count: 65), false), ("slash/name", false),
    ])
    func agentIdRule(identity: String, valid: Bool) {
        #expect(AllowListAuthoriser.isValidIdentity(identity) == valid)
    }
}

extension AllowListTests {
    /// docs/security.md#key-rotation: `ID+TAG.key` lists a further key of `ID`; both keys are that agent until one
    /// file goes.
    @Test func aPlusEntryListsAFurtherKeyOfTheSameAgent() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let old = try CurveKeyPair.generate().publicKey
        let new = try CurveKeyPair.generate().publicKey
        let stranger = try CurveKeyPair.generate().publicKey
        try write(old, "host-17", agentID: "host-17", in: directory)
        try write(new, "host-17+next", agentID: "host-17", in: directory)
        try write(stranger, "host-18+next", agentID: "host-17", in: directory)
        let allowList = try AllowListAuthoriser(directory: directory.path)
        #expect(allowList.identity(for: old) == "host-17")
        #expect(allowList.identity(for: new) == "host-17")
        // Its metadata must still name the identity before the `+`.
        #expect(allowList.identity(for: stranger) == nil)
        #expect(allowList.statistics.issues.contains { $0.contains("host-18+next.key") })
        #expect(rename(directory.file("host-17+next.key"), directory.file("host-17.key")) == 0)
        allowList.reload()
        #expect(allowList.identity(for: old) == nil)
        #expect(allowList.identity(for: new) == "host-17")
    }
}
