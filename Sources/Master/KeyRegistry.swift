import DecnetJSON
import Foundation
import ZeroMQ

/// The operator's view of the master's keys (`decnet-master keys`, docs/security.md#enrolment): accepted keys
/// (`agents/ID.key`), keys waiting for a decision (`RUN/pending/FINGERPRINT.json`, written by the serving master) and
/// rejected keys (`rejected/FINGERPRINT.key`). Works on the files alone, so it needs no running master; a serving
/// master follows `agents/` and `rejected/` without a restart.
public struct KeyRegistry: Sendable {
    public enum State: String, Sendable, CaseIterable {
        case accepted, pending, rejected
    }

    /// One key as `keys list` shows it.
    public struct Entry: Sendable, Equatable {
        public var state: State
        /// The agent id (accepted keys only).
        public var id: String?
        public var key: CurveKey
        public var address: String?
        /// Unix milliseconds: first and latest refused handshake (pending), or when the file was written.
        public var firstSeen: Int64?
        public var lastSeen: Int64?
        public var attempts: Int?
        public var changed: Int64?
        /// The file that holds the entry.
        public var path: String

        public var fingerprint: String { key.fingerprint }

        public var jsonValue: JSONValue {
            func optional(_ value: Int64?) -> JSONValue { value.map { JSONValue(Int($0)) } ?? .null }
            var object = JSONObject()
            object["state"] = JSONValue(state.rawValue)
            object["id"] = id.map { JSONValue($0) } ?? .null
            object["fingerprint"] = JSONValue(fingerprint)
            object["public_key"] = JSONValue(key.z85)
            object["address"] = address.map { JSONValue($0) } ?? .null
            object["first_seen_ms"] = optional(firstSeen)
            object["last_seen_ms"] = optional(lastSeen)
            object["attempts"] = attempts.map { JSONValue($0) } ?? .null
            object["changed_ms"] = optional(changed)
            return .object(object)
        }
    }

    public let directory: MasterDirectory

    public init(directory: MasterDirectory) {
        self.directory = directory
    }

    /// Every key, accepted first, then pending and rejected, each sorted by id or fingerprint. A key accepted
    /// and still pending (a refusal the master recorded while the operator accepted it) shows as accepted only;
    /// one rejected and pending as rejected only.
    public func list() -> [Entry] {
        let accepted = KeyFolder.certificates(in: directory.agentsPath).map { item in
            Entry(
                state: .accepted,
                id: item.name,
                key: item.certificate.publicKey,
                changed: Self.modified(join(directory.agentsPath, item.name + ZMQCertificate.publicSuffix)),
                path: join(directory.agentsPath, item.name + ZMQCertificate.publicSuffix)
            )
        }
        let rejected = KeyFolder.certificates(in: directory.rejectedPath).map { item in
            Entry(
                state: .rejected,
                key: item.certificate.publicKey,
                address: item.certificate.metadata["address"],
                changed: Self.modified(join(directory.rejectedPath, item.name + ZMQCertificate.publicSuffix)),
                path: join(directory.rejectedPath, item.name + ZMQCertificate.publicSuffix)
            )
        }
        let decided = Set(accepted.map(\.key)).union(rejected.map(\.key))
        let pending = PendingKeys.read(directory.pendingPath).filter { !decided.contains($0.key) }.map { record in
            Entry(
                state: .pending,
                key: record.key,
                address: record.address,
                firstSeen: record.firstSeen,
                lastSeen: record.lastSeen,
                attempts: record.attempts,
                path: join(directory.pendingPath, record.fileName)
            )
        }
        let acceptedKeys = Set(accepted.map(\.key))
        return accepted.sorted { ($0.id ?? "") < ($1.id ?? "") }
            + pending.sorted { $0.fingerprint < $1.fingerprint }
            + rejected.filter { !acceptedKeys.contains($0.key) }.sorted { $0.fingerprint < $1.fingerprint }
    }

    /// The entries `selector` names: an accepted agent's id, or a fingerprint (at least 8 leading hex digits).
    /// Throws ``MasterError/Code/noSuchKey`` when it names none, or keys of more than one state or key.
    public func resolve(
        _ selector: String,
        among states: Set<State> = Set(State.allCases)
    ) throws(MasterError)
        -> Entry
    {
        let entries = list()
        var matches = entries.filter { $0.id == selector }
        if matches.isEmpty, let prefix = CurveKey.fingerprintPrefix(selector) {
            matches = entries.filter { $0.fingerprint.hasPrefix(prefix) }
        }
        guard let first = matches.first else {
            let hint =
                CurveKey.fingerprintPrefix(selector) == nil && !AllowListAuthoriser.isValidIdentity(selector)
                ? " (give an agent id or at least \(CurveKey.minimumFingerprintPrefix) hex digits of a fingerprint)"
                : ""
            throw MasterError(.noSuchKey, operation: "keys \(selector)", message: "no key matches\(hint)")
        }
        guard matches.count == 1 else {
            let names = matches.map { "\($0.state.rawValue) \($0.id ?? $0.key.shortFingerprint)" }
            throw MasterError(
                .noSuchKey,
                operation: "keys \(selector)",
                message: "\(matches.count) keys match (\(names.joined(separator: ", "))); give more of the fingerprint"
            )
        }
        guard states.contains(first.state) else {
            throw MasterError(
                .conflict,
                operation: "keys \(selector)",
                message: "the key is \(first.state.rawValue)\(first.id.map { " as \($0)" } ?? "")"
            )
        }
        return first
    }

    /// Accepts a pending or rejected key as agent `id`: writes `agents/ID.key` (a public certificate with
    /// `role = agent`, `agent-id = ID`) and removes the key's pending and rejected files. A serving master admits the
    /// key from its next handshake on. Refuses an id already in use and changes nothing then.
    @discardableResult
    public func accept(_ selector: String, id: String) throws(MasterError) -> Entry {
        guard AllowListAuthoriser.isValidIdentity(id) else {
            throw MasterError(
                .badRequest,
                operation: "keys accept",
                message: "agent id \(id) is not 1 to 64 characters of A-Z a-z 0-9 . _ - not starting with '.'"
            )
        }
        let entry = try resolve(selector, among: [.pending, .rejected])
        let path = join(directory.agentsPath, id + ZMQCertificate.publicSuffix)
        if FileManager.default.fileExists(atPath: path) {
            throw MasterError(
                .conflict,
                operation: "keys accept \(selector)",
                message: "agent id \(id) already has a key (\(path)); delete it first or choose another id"
            )
        }
        let certificate = ZMQCertificate(publicKey: entry.key, metadata: ["role": "agent", "agent-id": id])
        do {
            try certificate.write(directory: directory.agentsPath, name: id, overwrite: false)
        } catch {
            throw MasterError(.io, operation: "keys accept \(selector)", message: error.message)
        }
        removeDecisionFiles(of: entry.key, keeping: path)
        var accepted = entry
        accepted.state = .accepted
        accepted.id = id
        accepted.path = path
        return accepted
    }

    /// Rejects a pending or accepted key: writes `rejected/FINGERPRINT.key` and removes its pending and `agents/`
    /// files (an accepted agent is revoked at once by a serving master). Its handshakes are then refused quietly.
    @discardableResult
    public func reject(_ selector: String) throws(MasterError) -> Entry {
        let entry = try resolve(selector, among: [.pending, .accepted])
        do {
            try FileManager.default.createDirectory(
                atPath: directory.rejectedPath,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755]
            )
        } catch {
            throw MasterError(.io, operation: "keys reject \(selector)", message: "\(error)")
        }
        var metadata = ["role": "agent"]
        if let address = entry.address, !address.isEmpty,
            address.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" })
        {
            metadata["address"] = address
        }
        let path = join(directory.rejectedPath, entry.fingerprint + ZMQCertificate.publicSuffix)
        do {
            try ZMQCertificate(publicKey: entry.key, metadata: metadata)
                .write(directory: directory.rejectedPath, name: entry.fingerprint, overwrite: true)
        } catch {
            throw MasterError(.io, operation: "keys reject \(selector)", message: error.message)
        }
        removeDecisionFiles(of: entry.key, keeping: path)
        var rejected = entry
        rejected.state = .rejected
        rejected.id = nil
        rejected.path = path
        return rejected
    }

    /// Removes every file of the key `selector` names (accepted, pending or rejected). A key still dialling comes
    /// back as pending on its next refused handshake.
    @discardableResult
    public func delete(_ selector: String) throws(MasterError) -> Entry {
        let entry = try resolve(selector)
        removeDecisionFiles(of: entry.key, keeping: nil)
        return entry
    }

    /// Removes the key's pending record and its entries in `agents/` and `rejected/`, except `keeping`.
    private func removeDecisionFiles(of key: CurveKey, keeping: String?) {
        let pending = join(directory.pendingPath, key.fingerprint + PendingKey.suffix)
        var paths = [pending]
        for folder in [directory.agentsPath, directory.rejectedPath] {
            for item in KeyFolder.certificates(in: folder) where item.certificate.publicKey == key {
                paths.append(join(folder, item.name + ZMQCertificate.publicSuffix))
            }
        }
        for path in paths where path != keeping { _ = unlink(path) }
    }

    private func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    private static func modified(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000
    }
}
