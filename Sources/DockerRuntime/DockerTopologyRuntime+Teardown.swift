import DecnetJSON
import DockerEngine
import Synchronization
import Topology

extension DockerTopologyRuntime {
    /// Removes everything labelled with `topologyID` (docs/deviations.md#teardown-by-label): containers (service
    /// containers before their bases), then networks (those named in `teardownOrder` first, in that order, then any
    /// other with the label).
    /// Needs no stored topology; objects already gone are fine, so a second teardown removes nothing and succeeds.
    func removeTopology(
        _ topologyID: String,
        teardownOrder: [String],
        progress: @escaping @Sendable (RuntimeProgress) -> Void
    ) async throws(RuntimeFailure) -> TeardownReport {
        let filter = DockerFilters.label(RuntimeLabels.topologyID, topologyID)
        let containers = try await step("list the containers of \(topologyID)", phase: "teardown") {
            () async throws(DockerError) in
            try await self.client.listContainers(all: true, filters: filter)
        }
        .map(ExistingContainer.init)
        .filter { RuntimeLabels.belongs($0.labels, to: topologyID) }
        let networks = try await step("list the networks of \(topologyID)", phase: "teardown") {
            () async throws(DockerError) in
            try await self.client.listNetworks(filters: filter)
        }
        .filter { RuntimeLabels.belongs($0.labels, to: topologyID) }

        let total = containers.count + networks.count
        let removed = Mutex<[String]>([])
        progress(RuntimeProgress(phase: .teardown, done: 0, total: total, message: "tearing down \(topologyID)"))
        for group in ExistingContainer.dependantsFirst(containers) {
            try await runBounded(group, limit: configuration.containerConcurrency) { container throws(RuntimeFailure) in
                try await self.stopAndRemove(container, phase: "teardown")
                let done = removed.withLock { names -> Int in
                    names.append(container.name)
                    return names.count
                }
                progress(RuntimeProgress(phase: .teardown, done: done, total: total, message: container.name))
            }
        }

        var removedBridges: [String] = []
        for network in Self.removalOrder(networks, teardownOrder: teardownOrder) {
            try await step("remove network \(network.name)", phase: "teardown") { () async throws(DockerError) in
                try await ignoringNotFound { () async throws(DockerError) in
                    try await self.client.removeNetwork(network.id)
                }
            }
            removedBridges.append(network.name)
            progress(
                RuntimeProgress(
                    phase: .teardown,
                    done: containers.count + removedBridges.count,
                    total: total,
                    message: network.name
                )
            )
        }
        return TeardownReport(removedContainers: removed.withLock { $0 }, removedBridges: removedBridges)
    }

    /// Networks named in `teardownOrder` in that order, then the others by name (code points).
    static func removalOrder(_ networks: [DockerNetwork], teardownOrder: [String]) -> [DockerNetwork] {
        var remaining = networks
        var ordered: [DockerNetwork] = []
        for name in teardownOrder {
            while let index = remaining.firstIndex(where: { JSONString($0.name) == JSONString(name) }) {
                ordered.append(remaining.remove(at: index))
            }
        }
        return ordered + remaining.sorted { JSONString($0.name) < JSONString($1.name) }
    }
}
