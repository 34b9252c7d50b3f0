/// One ZAP authentication request (RFC 27) as libzmq sends it to the handler: which socket domain, which peer
/// address, which mechanism and the client's credentials (for CURVE, its 32-byte long-term public key).
public struct ZAPRequest: Sendable, Hashable {
    /// The request id, echoed in the reply.
    public let requestID: [UInt8]
    /// The server socket's `ZMQ_ZAP_DOMAIN` (the wire protocol uses `decnet`).
    public let domain: String
    /// The client's IP address as text.
    public let address: String
    /// The routing id the client announced (often empty).
    public let routingId: [UInt8]
    /// `NULL`, `PLAIN` or `CURVE`.
    public let mechanism: String
    /// The mechanism's credential frames: for CURVE one frame, the client's public key.
    public let credentials: [[UInt8]]

    public init(
        requestID: [UInt8],
        domain: String,
        address: String,
        routingId: [UInt8],
        mechanism: String,
        credentials: [[UInt8]]
    ) {
        self.requestID = requestID
        self.domain = domain
        self.address = address
        self.routingId = routingId
        self.mechanism = mechanism
        self.credentials = credentials
    }

    /// The client's CURVE public key, for a CURVE request with a well-formed credential.
    public var clientPublicKey: CurveKey? {
        guard mechanism == "CURVE", credentials.count == 1 else { return nil }
        return try? CurveKey(bytes: credentials[0])
    }

    /// The client's CURVE public key in Z85, as it appears in certificates and logs.
    public var clientPublicKeyZ85: String? { clientPublicKey?.z85 }

    /// Parses the request frames `[version "1.0", request id, domain, address, identity, mechanism, credentials...]`;
    /// `nil` when they are not a version 1.0 request.
    init?(frames: [[UInt8]]) {
        guard frames.count >= 6, frames[0] == Array("1.0".utf8) else { return nil }
        func text(_ index: Int) -> String { String(decoding: frames[index], as: UTF8.self) }
        self.init(
            requestID: frames[1],
            domain: text(2),
            address: text(3),
            routingId: frames[4],
            mechanism: text(5),
            credentials: Array(frames[6...])
        )
    }
}

/// What a ZAP authoriser decides for one request.
public enum ZAPDecision: Sendable, Hashable {
    /// Status 200: let the client in; `userId` becomes the `User-Id` property of every message it sends.
    case allow(userId: String)
    /// Status 300 (temporary), 400 (refused) or 500 (internal error) with a reason for the client's logs.
    case deny(status: Int, reason: String)

    /// The usual refusal: status 400.
    public static func deny(_ reason: String) -> ZAPDecision { .deny(status: 400, reason: reason) }

    /// The reply frames `[version, request id, status code, status text, user id, metadata]`.
    func replyFrames(requestID: [UInt8]) -> [[UInt8]] {
        switch self {
        case .allow(let userId):
            return [Array("1.0".utf8), requestID, Array("200".utf8), Array("OK".utf8), Array(userId.utf8), []]
        case .deny(let status, let reason):
            let code = [300, 400, 500].contains(status) ? status : 400
            return [Array("1.0".utf8), requestID, Array(String(code).utf8), Array(reason.utf8), [], []]
        }
    }
}

/// Decides ZAP requests. Called on the ZAP handler's own thread, one request at a time, while the client's handshake
/// waits: keep it quick (a directory `stat`, a dictionary lookup).
public protocol ZAPAuthoriser: Sendable {
    func authorise(_ request: ZAPRequest) -> ZAPDecision
}

/// A ``ZAPAuthoriser`` made from a closure.
public struct ClosureAuthoriser: ZAPAuthoriser {
    private let body: @Sendable (ZAPRequest) -> ZAPDecision

    public init(_ body: @escaping @Sendable (ZAPRequest) -> ZAPDecision) {
        self.body = body
    }

    public func authorise(_ request: ZAPRequest) -> ZAPDecision { body(request) }
}
