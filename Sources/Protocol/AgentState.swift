import DecnetJSON

/// The state object (docs/wire-protocol.md#state): the body of a `state` result and the `state` member of `hello` and
/// `heartbeat`. Encodes to the exact bytes the agent sends (members in the order of the wire protocol's table,
/// `state_dir` only while there is a problem); decodes with `bad_request` naming the first bad member. Unknown
/// members are ignored.
public struct AgentState: Sendable, Equatable {
    /// The last failed apply (docs/deviations.md#attempts).
    public struct Attempt: Sendable, Equatable {
        public var topologyID: String
        public var versionHash: String
        /// Unix seconds.
        public var at: Int64
        /// At most 500 characters, "[code] message".
        public var error: String

        public init(topologyID: String, versionHash: String, at: Int64, error: String) {
            self.topologyID = topologyID
            self.versionHash = versionHash
            self.at = at
            self.error = error
        }
    }

    /// What Docker runs for the topology, found by label; or why Docker could not be asked.
    public enum Observed: Sendable, Equatable {
        /// Bridge names and the names of running containers, each sorted.
        case objects(bridges: [String], containers: [String])
        /// At most 200 characters.
        case error(String)
    }

    /// The differences between what the applied topology expects and what Docker runs; sorted lists.
    public struct Drift: Sendable, Equatable {
        public var missingBridges: [String]
        public var missingContainers: [String]
        public var stoppedContainers: [String]
        public var unexpectedContainers: [String]

        public init(
            missingBridges: [String] = [],
            missingContainers: [String] = [],
            stoppedContainers: [String] = [],
            unexpectedContainers: [String] = []
        ) {
            self.missingBridges = missingBridges
            self.missingContainers = missingContainers
            self.stoppedContainers = stoppedContainers
            self.unexpectedContainers = unexpectedContainers
        }
    }

    /// The applied topology; `nil` when nothing is applied.
    public var topologyID: String?
    /// Only ever names a topology applied completely.
    public var appliedVersionHash: String?
    /// Unix seconds.
    public var appliedAt: Int64?
    public var lastError: String?
    public var attempt: Attempt?
    public var observed: Observed
    /// `nil` exactly when ``observed`` is an error.
    public var drift: Drift?
    /// `state_dir.error`: set only while the state directory is missing or replaced (at most 300 characters).
    public var stateDirectoryError: String?

    public init(
        topologyID: String? = nil,
        appliedVersionHash: String? = nil,
        appliedAt: Int64? = nil,
        lastError: String? = nil,
        attempt: Attempt? = nil,
        observed: Observed,
        drift: Drift?,
        stateDirectoryError: String? = nil
    ) {
        self.topologyID = topologyID
        self.appliedVersionHash = appliedVersionHash
        self.appliedAt = appliedAt
        self.lastError = lastError
        self.attempt = attempt
        self.observed = observed
        self.drift = drift
        self.stateDirectoryError = stateDirectoryError
    }

    /// An agent with nothing applied that observes nothing: every member null or empty.
    public static let idle = AgentState(observed: .objects(bridges: [], containers: []), drift: Drift())

    /// Decodes a state object; `path` prefixes the member paths of errors (`state.attempt.at`).
    public init(_ value: JSONValue, path: String = "state") throws(MessageError) {
        let m = try StateMembers(value, path: path)
        topologyID = try m.nullableString("topology_id")
        appliedVersionHash = try m.nullableString("applied_version_hash")
        appliedAt = try m.nullableInteger("applied_at")
        lastError = try m.nullableString("last_error")
        switch try m.member("attempt") {
        case .null: attempt = nil
        case let value:
            let a = try StateMembers(value, path: path + ".attempt")
            attempt = Attempt(
                topologyID: try a.string("topology_id"),
                versionHash: try a.string("version_hash"),
                at: try a.integer("at"),
                error: try a.string("error")
            )
        }
        let o = try StateMembers(try m.member("observed"), path: path + ".observed")
        if o.object["error"] != nil {
            observed = .error(try o.string("error"))
            guard try m.member("drift") == .null else {
                throw .badRequest("\(path).drift must be null when observed is an error", path: path + ".drift")
            }
            drift = nil
        } else {
            observed = .objects(bridges: try o.strings("bridges"), containers: try o.strings("containers"))
            let d = try StateMembers(try m.member("drift"), path: path + ".drift")
            drift = Drift(
                missingBridges: try d.strings("missing_bridges"),
                missingContainers: try d.strings("missing_containers"),
                stoppedContainers: try d.strings("stopped_containers"),
                unexpectedContainers: try d.strings("unexpected_containers")
            )
        }
        switch m.object["state_dir"] {
        case nil: stateDirectoryError = nil
        case let value?: stateDirectoryError = try StateMembers(value, path: path + ".state_dir").string("error")
        }
    }

    public var jsonValue: JSONValue {
        func string(_ s: String?) -> JSONValue { s.map { .string(JSONString($0)) } ?? .null }
        func names(_ list: [String]) -> JSONValue { .array(list.map { .string(JSONString($0)) }) }
        var state = JSONObject()
        state["topology_id"] = string(topologyID)
        state["applied_version_hash"] = string(appliedVersionHash)
        state["applied_at"] = appliedAt.map { .integer(JSONInteger($0)) } ?? .null
        state["last_error"] = string(lastError)
        state["attempt"] =
            attempt.map { a in
                [
                    "topology_id": string(a.topologyID), "version_hash": string(a.versionHash),
                    "at": .integer(JSONInteger(a.at)), "error": string(a.error),
                ]
            } ?? .null
        switch observed {
        case .error(let error): state["observed"] = ["error": string(error)]
        case .objects(let bridges, let containers):
            state["observed"] = ["bridges": names(bridges), "containers": names(containers)]
        }
        state["drift"] =
            drift.map { d in
                [
                    "missing_bridges": names(d.missingBridges), "missing_containers": names(d.missingContainers),
                    "stopped_containers": names(d.stoppedContainers),
                    "unexpected_containers": names(d.unexpectedContainers),
                ]
            } ?? .null
        // Only while there is a problem, so a healthy agent's state object is what it always was.
        if let stateDirectoryError { state["state_dir"] = ["error": string(stateDirectoryError)] }
        return .object(state)
    }

    /// Compact UTF-8 bytes, as embedded in a `state` result (encode once, send many times).
    public var encoded: [UInt8] { PythonJSONEncoder().encode(jsonValue) }
}

extension AgentState.Observed {
    /// The bridges found; `nil` when Docker could not be asked.
    public var bridges: [String]? {
        guard case .objects(let bridges, _) = self else { return nil }
        return bridges
    }

    /// The running containers found; `nil` when Docker could not be asked.
    public var containers: [String]? {
        guard case .objects(_, let containers) = self else { return nil }
        return containers
    }

    /// Why Docker could not be asked; `nil` when it answered.
    public var error: String? {
        guard case .error(let error) = self else { return nil }
        return error
    }
}

/// The members of a state object or one of its parts; each failure a `bad_request` with the member's full path.
private struct StateMembers {
    let object: JSONObject
    let path: String

    init(_ value: JSONValue, path: String) throws(MessageError) {
        guard case .object(let object) = value else { throw .badRequest("\(path) is not an object", path: path) }
        self.object = object
        self.path = path
    }

    func member(_ key: String) throws(MessageError) -> JSONValue {
        guard let value = object[key] else { throw .badRequest("\(path).\(key) is missing", path: "\(path).\(key)") }
        return value
    }

    func nullableString(_ key: String) throws(MessageError) -> String? {
        switch try member(key) {
        case .null: return nil
        case .string(let s): return s.value
        default: throw .badRequest("\(path).\(key) is not a string or null", path: "\(path).\(key)")
        }
    }

    func string(_ key: String) throws(MessageError) -> String {
        guard case .string(let s) = try member(key) else {
            throw .badRequest("\(path).\(key) is not a string", path: "\(path).\(key)")
        }
        return s.value
    }

    func nullableInteger(_ key: String) throws(MessageError) -> Int64? {
        switch try member(key) {
        case .null: return nil
        case .integer(let n):
            guard let value = n.int64Value else {
                throw .badRequest("\(path).\(key) is out of range", path: "\(path).\(key)")
            }
            return value
        default: throw .badRequest("\(path).\(key) is not an integer or null", path: "\(path).\(key)")
        }
    }

    func integer(_ key: String) throws(MessageError) -> Int64 {
        guard let value = try nullableInteger(key) else {
            throw .badRequest("\(path).\(key) is not an integer", path: "\(path).\(key)")
        }
        return value
    }

    func strings(_ key: String) throws(MessageError) -> [String] {
        guard case .array(let items) = try member(key) else {
            throw .badRequest("\(path).\(key) is not an array", path: "\(path).\(key)")
        }
        return try items.enumerated().map { index, item throws(MessageError) in
            guard case .string(let s) = item else {
                throw .badRequest("\(path).\(key)[\(index)] is not a string", path: "\(path).\(key)[\(index)]")
            }
            return s.value
        }
    }
}
