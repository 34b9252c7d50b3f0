import DecnetJSON

/// A complete answer from the Engine API: status, headers and the whole body.
public struct DockerResponse: Sendable {
    public var status: Int
    /// Header fields in the order received; names as sent by the daemon.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Whether the connection may carry another request (HTTP/1.1 keep-alive, no `Connection: close`).
    var keepAlive: Bool

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8], keepAlive: Bool = true) {
        self.status = status
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
    }

    /// The first value of a header, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The body parsed as JSON; `protocol` error when it is not.
    public func json(operation: String) throws(DockerError) -> JSONValue {
        do {
            return try JSONParser.parse(body)
        } catch {
            throw DockerError(
                .protocol,
                status: status,
                operation: operation,
                message: "response is not JSON (\(error)): \(Self.preview(body))"
            )
        }
    }

    /// The error Docker's answer stands for, or `nil` for a 2xx.
    ///
    /// Docker puts its explanation in `{"message": "..."}`; a body that is not such an object is quoted as text.
    public func error(operation: String) -> DockerError? {
        guard let code = DockerError.code(forStatus: status) else { return nil }
        let message: String
        if let parsed = try? JSONParser.parse(body), let text = parsed["message"]?.stringValue {
            message = text
        } else if body.isEmpty {
            message = status == 304 ? "not modified" : "HTTP \(status) with an empty body"
        } else {
            message = Self.preview(body)
        }
        return DockerError(code, status: status, operation: operation, message: message)
    }

    /// The first few hundred bytes of a body as text, whitespace-trimmed, for error messages.
    static func preview(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(400), as: UTF8.self)
        return text.trimmingWhitespace() + (body.count > 400 ? "…" : "")
    }
}
