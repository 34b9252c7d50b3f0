/// A port number on this host for one transport protocol: the unit of a host port conflict.
public struct HostPort: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var port: Int
    public var proto: PortProtocol

    public init(_ port: Int, _ proto: PortProtocol) {
        self.port = port
        self.proto = proto
    }

    public static func < (lhs: HostPort, rhs: HostPort) -> Bool {
        (lhs.port, lhs.proto.rawValue) < (rhs.port, rhs.proto.rawValue)
    }

    public var description: String { "\(port)/\(proto.rawValue)" }
}

extension PortMapping {
    /// The host side of the mapping.
    public var hostSide: HostPort { HostPort(hostPort, proto) }
}
