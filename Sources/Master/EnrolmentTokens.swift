import DecnetJSON
import Foundation
import ZeroMQ

/// One enrolment token as the master keeps it (docs/security.md#enrolment-tokens): never the token, only the public
/// key derived from it, with its expiry and uses. On disk it is `DIR/tokens/<fingerprint>.json`, mode 0600.
public struct TokenRecord: Sendable, Equatable {
    public var key: CurveKey
    /// Unix milliseconds.
    public var created: Int64
    public var expires: Int64
    public var uses: Int
    public var usesLeft: Int

    public init(key: CurveKey, created: Int64, expires: Int64, uses: Int, usesLeft: Int) {
        self.key = key
        self.created = created
        self.expires = expires
        self.uses = uses
        self.usesLeft = usesLeft
    }

    public var fingerprint: String { key.fingerprint }
    /// What `keys list` shows and `keys token --revoke` takes: the first 16 hex digits of the fingerprint.
    public var id: String { String(fingerprint.prefix(16)) }

    /// Not expired at `now` (Unix milliseconds) and with a use left.
    public func isLive(now: Int64) -> Bool { usesLeft > 0 && now < expires }

    static let suffix = ".json"
    static let maxFileBytes = 4096
    var fileName: String { fingerprint + Self.suffix }

    public var jsonValue: JSONValue {
        [
            "id": JSONValue(id), "fingerprint": JSONValue(fingerprint), "public_key": JSONValue(key.z85),
            "created_ms": JSONValue(Int(created)), "expires_ms": JSONValue(Int(expires)),
            "uses": JSONValue(uses), "uses_left": JSONValue(usesLeft),
        ]
    }

    var fileBytes: [UInt8] { PythonJSONEncoder(sortKeys: true).encode(jsonValue) + [0x0A] }

    /// Reads a record written by ``fileBytes``; `nil` for anything else.
    init?(fileBytes bytes: [UInt8]) {
        guard let object = (try? JSONParser.parse(bytes))?.objectValue,
            let z85 = object["public_key"]?.stringValue, let key = try? CurveKey(z85: z85),
            let created = object["created_ms"]?.intValue, let expires = object["expires_ms"]?.intValue,
            let uses = object["uses"]?.intValue, let left = object["uses_left"]?.intValue,
            uses >= 1, left >= 0, left <= uses
        else { return nil }
        if let fingerprint = object["fingerprint"]?.stringValue, fingerprint != key.fingerprint { return nil }
        self.init(key: key, created: Int64(created), expires: Int64(expires), uses: uses, usesLeft: left)
    }
}

/// The master's `tokens/` folder: the CLI creates and revokes tokens, the serving master looks keys up at the
/// handshake and spends uses. Every read-modify-write holds an exclusive `flock` on `tokens/.lock`, so a use spent
/// by the server and a revoke by the operator never undo each other.
public struct EnrolmentTokens: Sendable {
    public let directory: String
    /// Unix milliseconds now (expiry is wall-clock time: a token's TTL survives master restarts).
    public let wallClock: @Sendable () -> Int64

    /// The longest lifetime and most uses a token may have.
    public static let maxTTLMillis: Int64 = 30 * 24 * 3_600_000
    public static let maxUses = 10_000

    public init(
        directory: String,
        wallClock: @escaping @Sendable () -> Int64 = MasterConfiguration.systemMillis
    ) {
        self.directory = directory
        self.wallClock = wallClock
    }

    /// Makes a token: writes its record and returns the token, which exists nowhere else.
    public func create(ttlMillis: Int64, uses: Int) throws(MasterError) -> (token: EnrolmentToken, record: TokenRecord)
    {
        guard ttlMillis >= 1000, ttlMillis <= Self.maxTTLMillis else {
            throw MasterError(.badRequest, operation: "keys token", message: "--ttl must be 1s to 30d")
        }
        guard uses >= 1, uses <= Self.maxUses else {
            throw MasterError(.badRequest, operation: "keys token", message: "--uses must be 1 to \(Self.maxUses)")
        }
        try makeDirectory()
        let token = EnrolmentToken.generate()
        let now = wallClock()
        let record = TokenRecord(
            key: token.keyPair().publicKey,
            created: now,
            expires: now + ttlMillis,
            uses: uses,
            usesLeft: uses
        )
        try locked { () throws(MasterError) in
            try AtomicFile.write(record.fileBytes, to: path(record), mode: 0o600)
            matchFolderOwner(path(record))
        }
        return (token, record)
    }

    /// Every readable record, sorted by id.
    public func list() -> [TokenRecord] {
        guard let names = AtomicFile.names(in: directory) else { return [] }
        return names.filter { $0.hasSuffix(TokenRecord.suffix) && !$0.hasPrefix(".") }.compactMap { name in
            AtomicFile.read(join(name), limit: TokenRecord.maxFileBytes).flatMap(TokenRecord.init(fileBytes:))
                .flatMap { $0.fileName == name ? $0 : nil }
        }.sorted { $0.id < $1.id }
    }

    /// The record of `key`, or `nil`.
    public func record(for key: CurveKey) -> TokenRecord? {
        AtomicFile.read(join(key.fingerprint + TokenRecord.suffix), limit: TokenRecord.maxFileBytes)
            .flatMap(TokenRecord.init(fileBytes:)).flatMap { $0.key == key ? $0 : nil }
    }

    /// Whether `key` is a live token's key now (the ZAP decision: one small file read, no listing).
    public func isLive(_ key: CurveKey) -> Bool {
        record(for: key)?.isLive(now: wallClock()) == true
    }

    /// Removes the token `selector` names (at least 8 leading hex digits of its fingerprint).
    @discardableResult
    public func revoke(_ selector: String) throws(MasterError) -> TokenRecord {
        guard let prefix = CurveKey.fingerprintPrefix(selector) else {
            throw MasterError(
                .badRequest,
                operation: "keys token --revoke",
                message: "give at least \(CurveKey.minimumFingerprintPrefix) hex digits of the token's id"
            )
        }
        return try locked { () throws(MasterError) -> TokenRecord in
            let matches = list().filter { $0.fingerprint.hasPrefix(prefix) }
            guard matches.count == 1, let record = matches.first else {
                throw MasterError(
                    .noSuchKey,
                    operation: "keys token --revoke \(selector)",
                    message: matches.isEmpty ? "no token matches" : "\(matches.count) tokens match; give more digits"
                )
            }
            guard unlink(path(record)) == 0 else {
                throw MasterError(
                    .io,
                    operation: "remove \(path(record))",
                    message: String(cString: strerror(errno))
                )
            }
            return record
        }
    }

    /// Spends one use of the live token `key`, under the lock; throws ``MasterError/Code/conflict`` when the token is
    /// gone, expired or used up (by now), ``MasterError/Code/io`` when the record cannot be written.
    @discardableResult
    public func spend(_ key: CurveKey) throws(MasterError) -> TokenRecord {
        try locked { () throws(MasterError) -> TokenRecord in try spendHoldingLock(key) }
    }

    /// ``spend(_:)`` for a caller that already holds the lock (`flock` does not nest across descriptors).
    @discardableResult
    func spendHoldingLock(_ key: CurveKey) throws(MasterError) -> TokenRecord {
        guard var record = record(for: key), record.isLive(now: wallClock()) else {
            throw MasterError(.conflict, operation: "spend token", message: "the token is expired, used up or revoked")
        }
        record.usesLeft -= 1
        try AtomicFile.write(record.fileBytes, to: path(record), mode: 0o600)
        return record
    }

    /// Runs `body` holding `tokens/.lock` (blocking `flock`; both holders only ever hold it for a few file writes).
    public func locked<T>(_ body: () throws(MasterError) -> T) throws(MasterError) -> T {
        try makeDirectory()
        let lockPath = join(".lock")
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw MasterError(.io, operation: "open \(lockPath)", message: String(cString: strerror(errno)))
        }
        defer { _ = close(fd) }
        matchFolderOwner(lockPath)
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw MasterError(.io, operation: "flock \(lockPath)", message: String(cString: strerror(errno)))
            }
        }
        defer { _ = flock(fd, LOCK_UN) }
        return try body()
    }

    /// Run as root (the operator's `sudo decnet-master keys token`), gives a file the owner of `tokens/`, so the
    /// master's own user (packaging: `decnet`, owner of the folder) can read and rewrite it.
    private func matchFolderOwner(_ path: String) {
        var folder = stat()
        var file = stat()
        guard geteuid() == 0, stat(directory, &folder) == 0, lstat(path, &file) == 0,
            file.st_uid != folder.st_uid || file.st_gid != folder.st_gid
        else { return }
        _ = lchown(path, folder.st_uid, folder.st_gid)
    }

    private func makeDirectory() throws(MasterError) {
        var info = stat()
        if stat(directory, &info) == 0 { return }
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
            throw MasterError(.io, operation: "mkdir \(directory)", message: String(cString: strerror(errno)))
        }
    }

    private func path(_ record: TokenRecord) -> String { join(record.fileName) }

    private func join(_ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
