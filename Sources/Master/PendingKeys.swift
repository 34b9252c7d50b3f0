import Foundation
import Synchronization
import ZeroMQ

/// The serving master's record of keys refused at the handshake, waiting for an operator (docs/security.md#enrolment).
///
/// Only the server writes here, one small JSON file per key under `RUN_DIR/pending/`, each written atomically; the
/// operator's `decnet-master keys` reads them and removes one when it accepts, rejects or deletes it. Unauthenticated
/// peers choose the keys, so everything is bounded:
///
/// * at most ``Limits/capacity`` records (256): a new key beyond that evicts the one seen least recently;
/// * at most ``Limits/newPerWindow`` new keys per window (30 per minute); more are only counted;
/// * a known key's file is rewritten at most once per ``Limits/rewriteMillis`` (10 s), whatever its attempts.
///
/// Called on the ZAP handler's thread; state lives in a `Mutex`.
public final class PendingKeys: Sendable {
    public struct Limits: Sendable, Equatable {
        public var capacity = 256
        public var newPerWindow = 30
        public var windowMillis: Int64 = 60_000
        public var rewriteMillis: Int64 = 10_000
        public init() {}
    }

    public struct Statistics: Sendable, Equatable {
        /// New keys recorded, and records evicted to make room.
        public var recorded = 0
        public var evicted = 0
        /// Refused handshakes of keys not recorded because too many new keys came in the window.
        public var rateLimited = 0
        /// Files that could not be written.
        public var writeFailures = 0
    }

    /// What ``note(_:address:)`` did.
    public enum Outcome: Sendable, Equatable {
        /// The first sight of this key: a record was written.
        case recorded
        /// A key already pending: its counters moved on.
        case seenAgain
        /// Too many new keys in this window: only counted.
        case rateLimited
    }

    private struct State {
        var entries: [CurveKey: PendingKey] = [:]
        var writtenAt: [CurveKey: Int64] = [:]
        var windowStart: Int64 = .min
        var newInWindow = 0
        var statistics = Statistics()
    }

    public let directory: String
    public let limits: Limits
    private let clock: @Sendable () -> Int64
    private let wallClock: @Sendable () -> Int64
    private let state = Mutex(State())

    /// Opens (creating, mode 0750) `directory` and takes in the records already there, up to the capacity (the
    /// ones seen least recently beyond it are removed).
    public init(
        directory: String,
        limits: Limits = Limits(),
        clock: @escaping @Sendable () -> Int64 = MasterConfiguration.monotonicMillis,
        wallClock: @escaping @Sendable () -> Int64 = MasterConfiguration.systemMillis
    ) throws(MasterError) {
        self.directory = directory
        self.limits = limits
        self.clock = clock
        self.wallClock = wallClock
        do {
            try FileManager.default.createDirectory(
                atPath: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o750]
            )
        } catch {
            throw MasterError(.directory, operation: "pending keys \(directory)", message: "\(error)")
        }
        var found = PendingKeys.read(directory)
        found.sort { $0.lastSeen > $1.lastSeen }
        for stale in found.dropFirst(limits.capacity) { _ = unlink(path(stale.fileName)) }
        let kept = found.prefix(limits.capacity)
        state.withLock { state in
            for entry in kept { state.entries[entry.key] = entry }
        }
    }

    /// Counts a refused handshake of `key` from `address`, writing its record when that is due.
    @discardableResult
    public func note(_ key: CurveKey, address: String) -> Outcome {
        let now = clock()
        let wallNow = wallClock()
        let address = String(address.prefix(256))
        let (outcome, write, evict) = state.withLock { state -> (Outcome, PendingKey?, PendingKey?) in
            if var entry = state.entries[key] {
                entry.attempts = entry.attempts.addingReportingOverflow(1).overflow ? Int.max : entry.attempts + 1
                entry.lastSeen = wallNow
                entry.address = address
                state.entries[key] = entry
                let last = state.writtenAt[key] ?? .min
                guard now.subtractingReportingOverflow(last).partialValue >= limits.rewriteMillis || last == .min
                else { return (.seenAgain, nil, nil) }
                state.writtenAt[key] = now
                return (.seenAgain, entry, nil)
            }
            if now.subtractingReportingOverflow(state.windowStart).partialValue >= limits.windowMillis
                || state.windowStart == .min
            {
                state.windowStart = now
                state.newInWindow = 0
            }
            guard state.newInWindow < limits.newPerWindow else {
                state.statistics.rateLimited += 1
                return (.rateLimited, nil, nil)
            }
            state.newInWindow += 1
            var evicted: PendingKey?
            if state.entries.count >= limits.capacity,
                let oldest = state.entries.values.min(by: { $0.lastSeen < $1.lastSeen })
            {
                state.entries[oldest.key] = nil
                state.writtenAt[oldest.key] = nil
                state.statistics.evicted += 1
                evicted = oldest
            }
            let entry = PendingKey(key: key, address: address, firstSeen: wallNow, lastSeen: wallNow, attempts: 1)
            state.entries[key] = entry
            state.writtenAt[key] = now
            state.statistics.recorded += 1
            return (.recorded, entry, evicted)
        }
        if let evict { _ = unlink(path(evict.fileName)) }
        if let write {
            do {
                try AtomicFile.write(write.fileBytes, to: path(write.fileName), mode: 0o640)
            } catch {
                state.withLock { $0.statistics.writeFailures += 1 }
            }
        }
        return outcome
    }

    /// Forgets `key` (it was accepted or rejected): its file is the operator's to remove.
    public func forget(_ key: CurveKey) {
        state.withLock { state in
            state.entries[key] = nil
            state.writtenAt[key] = nil
        }
    }

    /// The records held in memory now.
    public var entries: [PendingKey] { state.withLock { Array($0.entries.values) } }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    private func path(_ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// Every well-formed record in `directory` (others are skipped).
    public static func read(_ directory: String) -> [PendingKey] {
        guard let names = AtomicFile.names(in: directory) else { return [] }
        return names.sorted().compactMap { name -> PendingKey? in
            guard name.hasSuffix(PendingKey.suffix), !name.hasPrefix(".") else { return nil }
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            guard let bytes = AtomicFile.read(path, limit: PendingKey.maxFileBytes),
                let entry = PendingKey(fileBytes: bytes), entry.fileName == name
            else { return nil }
            return entry
        }
    }
}
