import DecnetJSON
import Hashing

/// A request from the master, decoded and checked.
public struct Request: Sendable {
    /// What a request asks, as the agent decodes it and as the master builds it (``OutgoingRequest``).
    public enum Body: Sendable, Equatable {
        case apply(ApplyRequest)
        case teardown(topologyID: String)
        case state
        case ping
        case rotateKey(KeyRotationPhase)

        /// The request type this body is sent as: the one place that maps the two.
        public var type: RequestType {
            switch self {
            case .apply: return .apply
            case .teardown: return .teardown
            case .state: return .state
            case .ping: return .ping
            case .rotateKey: return .rotateKey
            }
        }
    }

    public var id: String
    public var body: Body
    /// SHA-256 of the canonical envelope without its `id`: the same id with a different fingerprint is `id_reused`.
    public var fingerprint: String

    public var type: RequestType { body.type }
}

/// The two steps of an agent key rotation (docs/wire-protocol.md#rotate-key).
public enum KeyRotationPhase: String, Sendable, CaseIterable {
    /// Make the next key pair (or return the one made before) and answer with its public key.
    case prepare
    /// Dial the master again with the next key; the old one is kept until the new one is accepted.
    case activate
}

public struct ApplyRequest: Sendable, Equatable {
    public var hydrated: JSONValue
    public var versionHash: String
    public var supersede: Bool

    public init(hydrated: JSONValue, versionHash: String, supersede: Bool = false) {
        self.hydrated = hydrated
        self.versionHash = versionHash
        self.supersede = supersede
    }
}

/// A request that could not be decoded: answered with `error`, and with `id` when it could be read (else null).
public struct RejectedRequest: Error, Sendable {
    public var id: String?
    public var error: AgentError
}

/// Turns one command frame into a `Request`, or into the error to answer.
///
/// Checks run in a fixed order so the answer is predictable: size, JSON, object, `id`, `proto`, `type`, members.
/// Unknown members are ignored.
public struct RequestDecoder: Sendable {
    public var maxEnvelopeBytes: Int

    public init(maxEnvelopeBytes: Int = WireProtocol.defaultMaxEnvelopeBytes) {
        self.maxEnvelopeBytes = maxEnvelopeBytes
    }

    public func decode(_ frame: [UInt8]) -> Result<Request, RejectedRequest> {
        if frame.count > maxEnvelopeBytes {
            return .failure(
                RejectedRequest(
                    id: nil,
                    error: AgentError(
                        .tooLarge,
                        "envelope of \(frame.count) bytes is over the limit of \(maxEnvelopeBytes) bytes",
                        details: [
                            "limit": .integer(JSONInteger(maxEnvelopeBytes)),
                            "size": .integer(JSONInteger(frame.count)),
                        ]
                    )
                )
            )
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(frame, maxDepth: WireProtocol.maxDepth)
        } catch {
            return .failure(
                RejectedRequest(
                    id: nil,
                    error: AgentError(
                        .badRequest,
                        "envelope is not valid JSON: \(error.message)",
                        details: [
                            "path": "", "offset": .integer(JSONInteger(error.offset)),
                            "parse_error": .string(JSONString(error.code.rawValue)),
                        ]
                    )
                )
            )
        }
        guard case .object(let envelope) = value else {
            return .failure(
                RejectedRequest(
                    id: nil,
                    error: .badRequest("envelope must be a JSON object, got \(value.typeName)", path: "")
                )
            )
        }
        return decode(envelope)
    }

    public func decode(_ envelope: JSONObject) -> Result<Request, RejectedRequest> {
        // id first, so that every later error can be answered with it.
        guard let idValue = envelope["id"] else {
            return .failure(RejectedRequest(id: nil, error: .badRequest("member 'id' is missing", path: "/id")))
        }
        guard case .string(let idString) = idValue, Identifiers.isValidRequestID(idString.value) else {
            return .failure(
                RejectedRequest(
                    id: nil,
                    error: .badRequest(
                        "member 'id' must be 1 to 128 characters of A-Z a-z 0-9 . _ : -",
                        path: "/id"
                    )
                )
            )
        }
        let id = idString.value
        func reject(_ error: AgentError) -> Result<Request, RejectedRequest> {
            .failure(RejectedRequest(id: id, error: error))
        }

        switch envelope["proto"] {
        case nil: return reject(.badRequest("member 'proto' is missing", path: "/proto"))
        case .integer(let p):
            if p.intValue != WireProtocol.version {
                return reject(
                    AgentError(
                        .unsupportedProto,
                        "protocol version \(p) is not supported",
                        details: ["supported": .array(WireProtocol.supportedVersions.map { .integer(JSONInteger($0)) })]
                    )
                )
            }
        case let other?:
            return reject(.badRequest("member 'proto' must be an integer, got \(other.typeName)", path: "/proto"))
        }

        guard let typeValue = envelope["type"] else {
            return reject(.badRequest("member 'type' is missing", path: "/type"))
        }
        guard case .string(let typeString) = typeValue else {
            return reject(.badRequest("member 'type' must be a string, got \(typeValue.typeName)", path: "/type"))
        }
        guard let type = RequestType(rawValue: typeString.value) else {
            return reject(
                AgentError(
                    .unknownType,
                    "'\(typeString.value.prefix(64))' is not a request type",
                    details: ["supported": .array(RequestType.allCases.map { .string(JSONString($0.rawValue)) })]
                )
            )
        }

        let body: Request.Body
        switch type {
        case .state: body = .state
        case .ping: body = .ping
        case .rotateKey:
            guard let p = envelope["phase"] else {
                return reject(.badRequest("member 'phase' is missing", path: "/phase"))
            }
            guard case .string(let text) = p, let phase = KeyRotationPhase(rawValue: text.value) else {
                return reject(.badRequest("member 'phase' must be \"prepare\" or \"activate\"", path: "/phase"))
            }
            body = .rotateKey(phase)
        case .teardown:
            guard let t = envelope["topology_id"] else {
                return reject(.badRequest("member 'topology_id' is missing", path: "/topology_id"))
            }
            guard case .string(let tid) = t else {
                return reject(
                    .badRequest("member 'topology_id' must be a string, got \(t.typeName)", path: "/topology_id")
                )
            }
            guard Identifiers.isValidTopologyID(tid.value) else {
                return reject(
                    .badRequest(
                        "member 'topology_id' must be 1 to 128 characters of A-Z a-z 0-9 . _ - not starting with '.'",
                        path: "/topology_id"
                    )
                )
            }
            body = .teardown(topologyID: tid.value)
        case .apply:
            guard let h = envelope["hydrated"] else {
                return reject(.badRequest("member 'hydrated' is missing", path: "/hydrated"))
            }
            guard case .object = h else {
                return reject(.badRequest("member 'hydrated' must be an object, got \(h.typeName)", path: "/hydrated"))
            }
            guard let v = envelope["version_hash"] else {
                return reject(.badRequest("member 'version_hash' is missing", path: "/version_hash"))
            }
            guard case .string(let hash) = v else {
                return reject(
                    .badRequest("member 'version_hash' must be a string, got \(v.typeName)", path: "/version_hash")
                )
            }
            var supersede = false
            switch envelope["supersede"] {
            case nil, .null?: break
            case .bool(let b)?: supersede = b
            case let other?:
                return reject(
                    .badRequest("member 'supersede' must be a boolean, got \(other.typeName)", path: "/supersede")
                )
            }
            body = .apply(ApplyRequest(hydrated: h, versionHash: hash.value, supersede: supersede))
        }
        // Only what the request means counts: unknown members a master adds on a retry do not make it different.
        var meaning = JSONObject()
        for key in ["proto", "type", "hydrated", "version_hash", "supersede", "topology_id", "phase"] {
            if let v = envelope[key] { meaning[key] = v }
        }
        let fingerprint = SHA256.hex(PythonJSONEncoder.canonical.encode(.object(meaning)))
        return .success(Request(id: id, body: body, fingerprint: fingerprint))
    }
}
