import DockerEngine
import Foundation
import TestSupport
import Testing

/// The Docker Engine the live tests talk to (`DOCKER_HOST`, else the default socket) and the image they run.
public enum DockerTestDaemon {
    public static let socketPath: String =
        (try? DockerClient.Configuration.socketPath(dockerHost: ProcessInfo.processInfo.environment["DOCKER_HOST"]))
        ?? DockerClient.defaultSocketPath

    /// The small local image `scripts/docker-test-env.sh` builds.
    public static let busyboxImage = "decnet-test/busybox:latest"

    /// Whether a daemon answers `/_ping` on ``socketPath`` within two seconds.
    public static func answers() async -> Bool {
        let client = DockerClient(
            configuration: .init(socketPath: socketPath, connectTimeout: .seconds(2), readTimeout: .seconds(2))
        )
        let answers = (try? await client.ping()) ?? false
        try? await client.shutdown()
        return answers
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only when a Docker daemon answers; otherwise it is reported as skipped with the reason.
    public static var requiresDocker: Self {
        .enabled("no Docker daemon answers on \(DockerTestDaemon.socketPath): run scripts/docker-test-env.sh") {
            await DockerTestDaemon.answers()
        }
    }
}
