#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension DockerClient {
    /// Where the daemon is and how patient to be with it.
    public struct Configuration: Sendable {
        /// The daemon's unix socket.
        public var socketPath: String
        /// Upper bound of pooled keep-alive connections; 4 was the measured sweet spot on 2 cores.
        public var maximumConnections: Int
        /// How long to wait for the socket to accept a connection.
        public var connectTimeout: Duration
        /// How long a request may wait for the daemon's next bytes (stop adds its grace period; build, wait and
        /// events wait forever).
        public var readTimeout: Duration
        /// The deadline of a whole request, however the daemon trickles its bytes (stop adds its grace period; an
        /// event stream's deadline covers its head only). 60 s by default: longer than any Engine call the agent
        /// makes on a healthy daemon, short enough that a daemon that hangs is reported within a minute.
        public var requestTimeout: Duration
        /// The deadline of an image build (and of `wait`): 30 minutes by default.
        public var buildTimeout: Duration
        /// The largest response body kept in memory, 16 MiB by default (a list of 10,000 labelled containers is
        /// about 15 MB); more is a `protocol` error and the connection is closed.
        public var maximumResponseBytes: Int
        /// The longest line of a newline-delimited stream (`/events`), 1 MiB by default (an event is about 1 KB).
        public var maximumStreamLineBytes: Int
        /// The newest API version to speak, even when the daemon offers a newer one.
        public var maximumAPIVersion: DockerAPIVersion

        public init(
            socketPath: String = DockerClient.defaultSocketPath,
            maximumConnections: Int = 4,
            connectTimeout: Duration = .seconds(5),
            readTimeout: Duration = .seconds(60),
            maximumAPIVersion: DockerAPIVersion = .clientMaximum,
            requestTimeout: Duration = .seconds(60),
            buildTimeout: Duration = .seconds(1800),
            maximumResponseBytes: Int = 16 << 20,
            maximumStreamLineBytes: Int = 1 << 20
        ) {
            self.requestTimeout = requestTimeout
            self.buildTimeout = buildTimeout
            self.maximumResponseBytes = maximumResponseBytes
            self.maximumStreamLineBytes = maximumStreamLineBytes
            self.socketPath = socketPath
            self.maximumConnections = maximumConnections
            self.connectTimeout = connectTimeout
            self.readTimeout = readTimeout
            self.maximumAPIVersion = maximumAPIVersion
        }

        /// The configuration `DOCKER_HOST` asks for: unset or empty means the default socket, `unix:///path` that
        /// socket; any other transport (`tcp://`, `ssh://`, `npipe://`, `fd://`) is `unsupported`.
        public static func fromEnvironment(
            _ environment: [String: String] = ProcessInfo.processInfo.environment
        ) throws(DockerError) -> Configuration {
            Configuration(socketPath: try socketPath(dockerHost: environment["DOCKER_HOST"]))
        }

        /// The socket path a `DOCKER_HOST` value names.
        public static func socketPath(dockerHost: String?) throws(DockerError) -> String {
            guard let host = dockerHost, !host.isEmpty else { return DockerClient.defaultSocketPath }
            let scheme = "unix://"
            guard host.hasPrefix(scheme) else {
                throw DockerError(
                    .unsupported,
                    operation: "DOCKER_HOST",
                    message: "DOCKER_HOST=\(host) is not supported: only unix:///path/to/docker.sock is"
                )
            }
            let path = String(host.dropFirst(scheme.count))
            guard path.hasPrefix("/") else {
                throw DockerError(
                    .unsupported,
                    operation: "DOCKER_HOST",
                    message: "DOCKER_HOST=\(host) does not name an absolute socket path"
                )
            }
            return path
        }
    }

    /// Docker's default socket on Linux.
    public static let defaultSocketPath = "/var/run/docker.sock"
}
