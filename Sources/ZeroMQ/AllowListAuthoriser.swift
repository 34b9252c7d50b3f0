import FileErrors

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The master's ZAP authoriser: a folder of public certificates (`*.key`) lists the clients allowed in. A client
/// whose CURVE key is in the folder is admitted with the certificate's `agent-id` metadata as its User-Id (for a
/// pyzmq-made certificate without metadata, the file name without `.key`); anyone else is refused with status 400.
///
/// The folder is re-read without a restart: every decision first `stat`s the directory and reloads when it changed
/// (a file added, removed or renamed), and at least every `rescanInterval` anyway (a file edited in place), so a
/// removed key is refused from the next handshake on. Files that do not load are skipped and reported in
/// ``Statistics/issues``. Thread-safe: state lives in a `Mutex`.
public final class AllowListAuthoriser: ZAPAuthoriser {
    /// Counters and the outcome of the last load.
    public struct Statistics: Sendable, Hashable {
        /// Clients admitted.
        public var allowed = 0
        /// CURVE clients refused because their key is not listed.
        public var deniedUnknownKey = 0
        /// Requests refused for another reason: not CURVE, or a domain other than ``AllowListAuthoriser/domain``.
        public var deniedOther = 0
        /// Times the folder was read.
        public var loads = 0
        /// Problems found by the last load (unreadable files, duplicate keys, invalid identities).
        public var issues: [String] = []
    }

    private struct Snapshot {
        var identities: [CurveKey: String] = [:]
        var allowedIdentities: Set<String> = []
        var directoryStamp: DirectoryStamp?
        var loadedAt: ContinuousClock.Instant?
        /// The directory changed within a second of the load: another change in the same timestamp tick could go
        /// unseen, so the next decision reloads again.
        var racy = true
        var statistics = Statistics()
    }

    private struct DirectoryStamp: Equatable {
        var device: UInt64
        var inode: UInt64
        var seconds: Int
        var nanoseconds: Int
    }

    /// The folder of public `.key` certificates.
    public let directory: String
    /// The ZAP domain this authoriser serves (`decnet`); `nil` accepts any domain.
    public let domain: String?
    /// How often the folder is re-read even when the directory looks unchanged.
    public let rescanInterval: Duration
    private let snapshot = Mutex(Snapshot())

    /// Reads `directory` at once; throws ``ZMQError/Code/io`` when it cannot be read at all.
    public init(directory: String, domain: String? = "decnet", rescanInterval: Duration = .seconds(2)) throws(ZMQError)
    {
        self.directory = directory
        self.domain = domain
        self.rescanInterval = rescanInterval
        guard AllowListAuthoriser.stamp(of: directory) != nil else {
            throw ZMQError(.io, operation: "AllowListAuthoriser", message: "cannot read the directory \(directory)")
        }
        snapshot.withLock { refresh(&$0, force: true) }
    }

    public func authorise(_ request: ZAPRequest) -> ZAPDecision {
        snapshot.withLock { state in
            if let domain, request.domain != domain {
                state.statistics.deniedOther += 1
                return .deny("ZAP domain \(request.domain) is not served")
            }
            guard let key = request.clientPublicKey else {
                state.statistics.deniedOther += 1
                return .deny("mechanism \(request.mechanism) is not allowed; use CURVE")
            }
            refresh(&state, force: false)
            guard let identity = state.identities[key] else {
                state.statistics.deniedUnknownKey += 1
                return .deny("unknown client key")
            }
            state.statistics.allowed += 1
            return .allow(userId: identity)
        }
    }

    /// The identity the folder gives `key` now, or `nil` when it is not listed.
    public func identity(for key: CurveKey) -> String? {
        snapshot.withLock { state in
            refresh(&state, force: false)
            return state.identities[key]
        }
    }

    /// Whether some listed key still maps to `identity`: the per-message check that a connected client was not
    /// revoked since its handshake.
    public func isAllowed(identity: String) -> Bool {
        snapshot.withLock { state in
            refresh(&state, force: false)
            return state.allowedIdentities.contains(identity)
        }
    }

    /// Every listed key and its identity, after a refresh.
    public var identities: [CurveKey: String] {
        snapshot.withLock { state in
            refresh(&state, force: false)
            return state.identities
        }
    }

    /// Re-reads the folder now.
    public func reload() {
        snapshot.withLock { refresh(&$0, force: true) }
    }

    /// The counters so far.
    public var statistics: Statistics { snapshot.withLock { $0.statistics } }

    private func refresh(_ state: inout Snapshot, force: Bool) {
        let stamp = AllowListAuthoriser.stamp(of: directory)
        let now = ContinuousClock.now
        let due = state.loadedAt.map { now - $0 >= rescanInterval } ?? true
        guard force || due || state.racy || stamp != state.directoryStamp else { return }
        load(into: &state)
        state.directoryStamp = stamp
        state.loadedAt = now
        let modified = stamp.map { Double($0.seconds) + Double($0.nanoseconds) / 1e9 } ?? 0
        state.racy = stamp == nil || Date().timeIntervalSince1970 - modified < 1.0
    }

    private func load(into state: inout Snapshot) {
        var identities: [CurveKey: String] = [:]
        var sources: [CurveKey: String] = [:]
        var issues: [String] = []
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            names = []
            issues.append("cannot list \(directory): \(FileErrorText.describe(error))")
        }
        for name in names where name.hasSuffix(ZMQCertificate.publicSuffix) && !name.hasPrefix(".") {
            let certificate: ZMQCertificate
            do {
                certificate = try ZMQCertificate.load(path: CertificateFiles.join(directory, name))
            } catch {
                issues.append("\(name): \(error.message)")
                continue
            }
            let identity = certificate.agentId ?? String(name.dropLast(ZMQCertificate.publicSuffix.count))
            guard AllowListAuthoriser.isValidIdentity(identity) else {
                issues.append("\(name): identity \(identity) is not a valid agent id")
                continue
            }
            if let first = sources[certificate.publicKey] {
                issues.append("\(name): the same key as \(first); \(first) wins")
                continue
            }
            identities[certificate.publicKey] = identity
            sources[certificate.publicKey] = name
        }
        state.identities = identities
        state.allowedIdentities = Set(identities.values)
        state.statistics.loads += 1
        state.statistics.issues = issues
    }

    /// Agent ids of the wire protocol: 1 to 64 of `A-Z a-z 0-9 . _ -`, not starting with `.`.
    public static func isValidIdentity(_ identity: String) -> Bool {
        let bytes = Array(identity.utf8)
        guard (1...64).contains(bytes.count), bytes[0] != UInt8(ascii: ".") else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    private static func stamp(of directory: String) -> DirectoryStamp? {
        var info = stat()
        guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { return nil }
        return DirectoryStamp(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), seconds: info.st_mtim.tv_sec,
            nanoseconds: info.st_mtim.tv_nsec)
    }
}
