/// A transport protocol of a published port.
public enum PortProtocol: String, Sendable, Hashable, Comparable, CaseIterable {
    case tcp
    case udp

    public static func < (lhs: PortProtocol, rhs: PortProtocol) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One host port publication: `hostPort` on every host address forwards to `containerPort` in the container.
public struct PortMapping: Sendable, Hashable {
    public var hostPort: Int
    public var containerPort: Int
    public var proto: PortProtocol

    public init(hostPort: Int, containerPort: Int, proto: PortProtocol = .tcp) {
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.proto = proto
    }

    /// Compose's short syntax: `"22:22"`, `"53:53/udp"`.
    public var composeText: String {
        "\(hostPort):\(containerPort)" + (proto == .tcp ? "" : "/\(proto.rawValue)")
    }
}
