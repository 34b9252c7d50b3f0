import Synchronization
import SystemFiles

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The master's ZAP authoriser: a folder of public certificates (`*.key`) lists the clients allowed in. A client's
/// identity is its entry's file name: `agents/host-17.key` admits one key as `host-17`, and nothing the client sends
/// can change that. `agents/host-17+next.key` admits a further key as `host-17` (a key rotation's overlap). A certificate whose `agent-id` metadata names another id is refused (its holder would otherwise
/// answer under a name the operator never gave it), and so is every entry of a key listed twice.
///
/// The ZAP User-Id of an admitted client is its public key in Z85, so every message libzmq delivers names the key
/// it was sent with; ``identity(forUserId:)`` maps it back through the folder as it is now, which makes a removed or
/// replaced key count as revoked on its very next message.
///
/// The folder is re-read without a restart, whenever something in it changed: on Linux every decision first asks an
/// `inotify` watch (one non-blocking `read`; a file added, written, renamed or removed, or the folder replaced),
/// and reads the whole folder again only then, or every `watchedRescanInterval` as a safety net. Without inotify
/// every decision `stat`s the directory and reloads when it changed, and at least every `rescanInterval` anyway (a
/// file edited in place). Either way a removed key is refused from the next handshake on, and a fleet of thousands
/// of keys is not read again while nothing changes. A folder that is gone admits nobody; a read that fails for
/// want of resources (descriptors, memory) keeps the last complete list, so a flood cannot revoke every agent.
/// Thread-safe: state lives in a `Mutex`.
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
        var byUserId: [String: String] = [:]
        var allowedIdentities: Set<String> = []
        /// Bumped whenever the key-to-identity map changes.
        var generation = 0
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
    /// How often the folder is re-read even when the directory looks unchanged, without inotify.
    public let rescanInterval: Duration
    /// How often the folder is re-read although inotify reported nothing.
    public static let watchedRescanInterval: Duration = .seconds(300)
    private let snapshot = Mutex(Snapshot())
    #if canImport(Glibc)
    /// Only touched with `snapshot` locked.
    private nonisolated(unsafe) let watch: DirectoryWatch?
    #endif

    /// Reads `directory` at once; throws ``ZMQError/Code/io`` when it cannot be read at all.
    public init(directory: String, domain: String? = "decnet", rescanInterval: Duration = .seconds(2)) throws(ZMQError)
    {
        self.directory = directory
        self.domain = domain
        self.rescanInterval = rescanInterval
        #if canImport(Glibc)
        self.watch = DirectoryWatch(directory: directory)
        #endif
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
            guard state.identities[key] != nil else {
                state.statistics.deniedUnknownKey += 1
                return .deny("unknown client key")
            }
            state.statistics.allowed += 1
            return .allow(userId: key.z85)
        }
    }

    /// The identity the folder gives `key` now, or `nil` when it is not listed.
    public func identity(for key: CurveKey) -> String? {
        snapshot.withLock { state in
            refresh(&state, force: false)
            return state.identities[key]
        }
    }

    /// The identity of the client whose ZAP User-Id (its Z85 public key) is `userId`, as the folder lists it now;
    /// `nil` when the key is no longer listed: the per-message check that a connected client was not revoked.
    public func identity(forUserId userId: String) -> String? {
        snapshot.withLock { state in
            refresh(&state, force: false)
            return state.byUserId[userId]
        }
    }

    /// A number that changes whenever the listed keys or their identities change (after a refresh).
    public var generation: Int {
        snapshot.withLock { state in
            refresh(&state, force: false)
            return state.generation
        }
    }

    /// Whether some listed key maps to `identity`.
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
        let now = ContinuousClock.now
        #if canImport(Glibc)
        if let watch {
            // A folder moved or removed is watched again as soon as one is there (and then read).
            let wasWatching = watch.isWatching
            if !wasWatching { watch.rewatch() }
            if watch.isWatching {
                let changed = watch.changed() || !wasWatching
                let due = state.loadedAt.map { now - $0 >= Self.watchedRescanInterval } ?? true
                // `racy` here: the last read failed for want of resources; try again.
                guard force || changed || due || state.racy else { return }
                state.racy = false
                load(into: &state)
                state.loadedAt = now
                return
            }
        }
        #endif
        let stamp = AllowListAuthoriser.stamp(of: directory)
        let due = state.loadedAt.map { now - $0 >= rescanInterval } ?? true
        guard force || due || state.racy || stamp != state.directoryStamp else { return }
        load(into: &state)
        state.directoryStamp = stamp
        state.loadedAt = now
        let modified = stamp.map { Double($0.seconds) + Double($0.nanoseconds) / 1e9 } ?? 0
        state.racy = stamp == nil || Date().timeIntervalSince1970 - modified < 1.0
    }

    private func load(into state: inout Snapshot) {
        var issues: [String] = []
        let names: [String]
        let listing = DirectoryListing.names(at: directory)
        if let number = listing.errno {
            let text = String(cString: strerror(number))
            guard !AllowListAuthoriser.isTransient(number) else {
                state.statistics.issues = ["cannot list \(directory) (\(text)); keeping the last list"]
                state.racy = true
                return
            }
            issues.append("cannot list \(directory): \(text)")
        }
        names = listing.names.sorted()
        var entries: [(name: String, identity: String, key: CurveKey)] = []
        for name in names where name.hasSuffix(ZMQCertificate.publicSuffix) && !name.hasPrefix(".") {
            // `ID+TAG.key` lists a further key of `ID` (an agent key being rotated, docs/security.md#key-rotation):
            // `+` is in no valid id, so the name before it is the identity.
            let stem = name.dropLast(ZMQCertificate.publicSuffix.count)
            let identity = String(stem.split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false)[0])
            let certificate: ZMQCertificate
            do {
                certificate = try ZMQCertificate.load(path: CertificateFiles.join(directory, name))
            } catch {
                if let number = error.errno, AllowListAuthoriser.isTransient(number) {
                    state.statistics.issues = ["cannot read \(name) (\(error.message)); keeping the last list"]
                    state.racy = true
                    return
                }
                issues.append("\(name): \(error.message)")
                continue
            }
            guard AllowListAuthoriser.isValidIdentity(identity) else {
                issues.append("\(name): \(identity) is not a valid agent id; refused")
                continue
            }
            if let claimed = certificate.agentID, claimed != identity {
                issues.append(
                    "\(name): its metadata names agent-id \(claimed), the file names \(identity); refused"
                )
                continue
            }
            entries.append((name, identity, certificate.publicKey))
        }
        var holders: [CurveKey: [String]] = [:]
        for entry in entries { holders[entry.key, default: []].append(entry.name) }
        var identities: [CurveKey: String] = [:]
        for entry in entries {
            let names = holders[entry.key] ?? []
            guard names.count == 1 else {
                let others = names.filter { $0 != entry.name }.joined(separator: ", ")
                issues.append("\(entry.name): the same key as \(others); every entry of that key is refused")
                continue
            }
            identities[entry.key] = entry.identity
        }
        if identities != state.identities { state.generation += 1 }
        state.identities = identities
        state.byUserId = Dictionary(uniqueKeysWithValues: identities.map { ($0.key.z85, $0.value) })
        state.allowedIdentities = Set(identities.values)
        state.statistics.loads += 1
        state.statistics.issues = issues
    }

    /// Failures that say nothing about the folder's content: the process is short of descriptors or memory.
    private static func isTransient(_ number: Int32) -> Bool {
        [EMFILE, ENFILE, ENOMEM, ENOBUFS, EINTR, EAGAIN].contains(number)
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
            device: UInt64(info.st_dev),
            inode: UInt64(info.st_ino),
            seconds: info.st_mtim.tv_sec,
            nanoseconds: info.st_mtim.tv_nsec
        )
    }
}
