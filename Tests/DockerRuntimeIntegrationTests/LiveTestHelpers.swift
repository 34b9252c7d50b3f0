import DecnetJSON
import DockerEngine
import DockerRuntime
import Foundation
import LiveTestSupport
import TestSupport
import Testing
import Topology

/// Every test against the real daemon lives under this suite, one at a time: they create dozens of containers on a
/// 2-core machine shared with other engineers' Docker tests.
@Suite(.requiresDocker, .serialized) struct DockerRuntimeLiveTests {}

/// Names and ids of what a topology has on the host, read through the API by label.
struct Labelled: Equatable {
    var containers: [String: String]
    var networks: [String: String]

    static func read(_ client: DockerClient, _ topologyID: String) async throws -> Labelled {
        let filter = DockerFilters.label("decnet.topology.id", topologyID)
        let containers = try await client.listContainers(all: true, filters: filter)
        let networks = try await client.listNetworks(filters: filter)
        return Labelled(
            containers: Dictionary(uniqueKeysWithValues: containers.map { ($0.name, $0.id) }),
            networks: Dictionary(uniqueKeysWithValues: networks.map { ($0.name, $0.id) })
        )
    }

    static let empty = Labelled(containers: [:], networks: [:])
}

/// The first of `candidates` that exists and is executable.
func executable(_ candidates: [String]) -> String? {
    candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// The HTTP status line's code from `127.0.0.1:port`, retried for up to three seconds while the server starts.
func httpStatus(port: Int) async throws -> String? {
    guard let curl = executable(["/usr/bin/curl", "/usr/local/bin/curl"]) else { return nil }
    var status: String?
    _ = try await eventually(within: 3) {
        let result = try ProcessRunner.runMerged(
            curl,
            ["-s", "-o", "/dev/null", "-m", "1", "-w", "%{http_code}", "http://127.0.0.1:\(port)/"]
        )
        status = result.output
        return result.status == 0 && result.output != "000"
    }
    return status
}

/// Milliseconds since `start`.
func milliseconds(since start: ContinuousClock.Instant) -> Int {
    let elapsed = ContinuousClock.now - start
    return Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
}

extension DockerTestTopology {
    /// Container names of the plan, as a set.
    func containerNames(_ plan: ComposePlan) -> Set<String> { Set(plan.containers.map(\.containerName)) }
}
