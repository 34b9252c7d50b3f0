import DecnetJSON

/// One call to the Engine API, described without the `/v1.xx` prefix the client adds after version negotiation.
///
/// The typed methods of ``DockerClient`` build these; ``DockerClient/send(_:)`` takes one directly for endpoints the
/// client does not wrap.
public struct DockerRequest: Sendable {
    public enum Method: String, Sendable {
        case get = "GET"
        case post = "POST"
        case put = "PUT"
        case delete = "DELETE"
        case head = "HEAD"
    }

    /// What travels in the request body.
    public enum Body: Sendable {
        case empty
        /// Sent as `Content-Type: application/json`.
        case json(JSONValue)
        /// Raw bytes with their content type (`application/x-tar` for a build context).
        case bytes([UInt8], contentType: String)
    }

    /// How long to wait for the next bytes of the answer.
    public enum ReadTimeout: Sendable, Equatable {
        /// The client's configured read timeout.
        case standard
        /// The configured read timeout plus this much (a stop that waits for the container's own grace period).
        case standardPlus(Duration)
        /// Wait as long as it takes (build, wait, events).
        case none
    }

    /// How long the whole request may take, from sending it to the end of the answer (for a stream: to its head).
    public enum Deadline: Sendable, Equatable {
        /// The client's ``DockerClient/Configuration/requestTimeout``.
        case standard
        /// The request timeout plus this much (a stop that waits for the container's own grace period).
        case standardPlus(Duration)
        /// The client's ``DockerClient/Configuration/buildTimeout`` (image builds, `wait`).
        case long
    }

    public var method: Method
    /// The path with every segment already percent-encoded, e.g. `/containers/abc/start`; see ``path(_:)``.
    public var path: String
    public var query: [(name: String, value: String)]
    public var body: Body
    public var readTimeout: ReadTimeout
    public var deadline: Deadline
    /// Whether to prefix the path with the negotiated `/v1.xx` (false only for `/version` and `/_ping` before it).
    public var versioned: Bool

    public init(
        _ method: Method,
        _ path: String,
        query: [(name: String, value: String)] = [],
        body: Body = .empty,
        readTimeout: ReadTimeout = .standard,
        deadline: Deadline = .standard,
        versioned: Bool = true
    ) {
        self.deadline = deadline
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.readTimeout = readTimeout
        self.versioned = versioned
    }

    /// Builds a path from raw segments, percent-encoding each one: `path("containers", id, "json")`.
    public static func path(_ segments: String...) -> String {
        segments.map { "/" + percentEncode($0) }.joined()
    }

    /// The method and unversioned path, as error reports name an operation.
    public var operation: String { "\(method.rawValue) \(path)" }

    /// The request target sent on the wire: optional version prefix, path, and the encoded query.
    func target(version: DockerAPIVersion?) -> String {
        var target = versioned ? "/v\(version?.description ?? DockerAPIVersion.clientMaximum.description)" : ""
        target += path
        if !query.isEmpty {
            target += "?" + query.map { percentEncode($0.name) + "=" + percentEncode($0.value) }.joined(separator: "&")
        }
        return target
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so any name or JSON filter is safe in a path
/// segment or a query value.
func percentEncode(_ text: String) -> String {
    let hex = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count)
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            out.append(byte)
        default:
            out.append(UInt8(ascii: "%"))
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
    }
    return String(decoding: out, as: UTF8.self)
}

extension Duration {
    /// Whole nanoseconds, saturating; for handing Swift durations to NIO's `TimeAmount`.
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = product.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflow2 ? .max : sum
    }
}
