/// A Docker Engine API version such as `1.41`, compared numerically (`1.9` < `1.41`).
public struct DockerAPIVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// Parses `"1.41"`; `nil` for anything that is not two dot-separated decimal numbers.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]), major >= 0, minor >= 0 else {
            return nil
        }
        self.init(major, minor)
    }

    /// The newest API this client was written and tested against (Docker 20.10).
    public static let clientMaximum = DockerAPIVersion(1, 41)
    /// The oldest API this client accepts: older daemons lack fields the runtime relies on.
    public static let clientMinimum = DockerAPIVersion(1, 40)

    public var description: String { "\(major).\(minor)" }

    public static func < (lhs: DockerAPIVersion, rhs: DockerAPIVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    /// The version to speak with a daemon that offers `daemon`: the daemon's own, capped at `maximum`.
    ///
    /// Throws `unsupported` when the daemon is older than ``clientMinimum``.
    public static func negotiate(
        daemon: DockerAPIVersion,
        maximum: DockerAPIVersion = .clientMaximum
    ) throws(DockerError) -> DockerAPIVersion {
        guard daemon >= clientMinimum else {
            throw DockerError(
                .unsupported,
                operation: "GET /version",
                message: "Docker Engine API \(daemon) is older than the minimum \(clientMinimum) this agent supports"
            )
        }
        return min(daemon, maximum)
    }
}
