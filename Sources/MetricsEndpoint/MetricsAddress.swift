/// Where the metrics endpoint listens: `HOST:PORT`, `[IPV6]:PORT`, or a port alone (`PORT` or `:PORT`), which binds
/// the loopback address only (docs/metrics.md#endpoint): the endpoint answers anyone who reaches it, so exposing it
/// beyond the host is something an operator writes out.
public struct MetricsAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// The address a port alone binds to.
    public static let defaultHost = "127.0.0.1"

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses the setting's text; the error says what is wrong with it.
    public init(parsing text: String) throws(MetricsAddressError) {
        let host: String
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw MetricsAddressError(text, "has no closing ]") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.first == ":" else { throw MetricsAddressError(text, "needs :PORT after the bracketed address") }
            portText = rest.dropFirst()
            guard host.contains(":") else { throw MetricsAddressError(text, "brackets hold only an IPv6 address") }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else {
                throw MetricsAddressError(text, "an IPv6 address goes in brackets: [ADDRESS]:PORT")
            }
        } else {
            host = ""
            portText = Substring(text)
        }
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), portText.count <= 5,
            let port = Int(portText), (0...65535).contains(port)
        else {
            throw MetricsAddressError(text, "needs a port from 0 to 65535")
        }
        guard host.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0 != "/" }) else {
            throw MetricsAddressError(text, "has a host with spaces, slashes or non-ASCII characters")
        }
        self.init(host: host.isEmpty ? Self.defaultHost : host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A metrics address that cannot be used, said in one line.
public struct MetricsAddressError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    init(_ text: String, _ problem: String) {
        description = "metrics address '\(text)' \(problem)"
    }
}
