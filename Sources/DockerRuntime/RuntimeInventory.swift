import DecnetJSON
import DockerEngine
import Topology

/// Every container and network on the host, listed once at the start of a materialise: enough to refuse a plan
/// whose names are taken by objects that are not ours, before anything changes.
struct RuntimeInventory: Sendable {
    var containers: [ExistingContainer]
    var networks: [DockerNetwork]

    /// Lists all containers (stopped ones too) and all networks.
    static func load(_ runtime: DockerTopologyRuntime) async throws(RuntimeFailure) -> RuntimeInventory {
        do throws(DockerError) {
            let containers = try await runtime.retrying("list containers") { () async throws(DockerError) in
                try await runtime.client.listContainers(all: true)
            }
            let networks = try await runtime.retrying("list networks") { () async throws(DockerError) in
                try await runtime.client.listNetworks()
            }
            return RuntimeInventory(containers: containers.map(ExistingContainer.init), networks: networks)
        } catch {
            throw RuntimeFailure.docker(error, phase: "networks", "cannot list what runs on this host")
        }
    }

    /// Networks called exactly `name` (Docker allows several).
    func networks(named name: String) -> [DockerNetwork] {
        networks.filter { JSONString($0.name) == JSONString(name) }
    }

    func container(named name: String) -> ExistingContainer? {
        containers.first { JSONString($0.name) == JSONString(name) }
    }

    /// Containers labelled with `topology`, by name.
    func ownedContainers(_ topology: String) -> [ExistingContainer] {
        containers.filter { RuntimeLabels.belongs($0.labels, to: topology) }
    }

    func ownedNetworks(_ topology: String) -> [DockerNetwork] {
        networks.filter { RuntimeLabels.belongs($0.labels, to: topology) }
    }

    /// Refuses the plan when one of its bridge or container names belongs to an object without this topology's
    /// label: such an object is never touched, so the plan cannot be materialised here.
    func checkOwnership(_ plan: ComposePlan) throws(RuntimeFailure) {
        for bridge in plan.bridges {
            for network in networks(named: bridge.name)
            where !RuntimeLabels.belongs(network.labels, to: plan.topologyID) {
                let owner = network.labels[RuntimeLabels.topologyID].map { "topology \($0)" } ?? "nobody we know"
                throw RuntimeFailure(
                    .failed,
                    phase: "networks",
                    "network \(bridge.name) already exists and belongs to \(owner), "
                        + "not to topology \(plan.topologyID); it is left untouched"
                )
            }
        }
        for spec in plan.containers {
            if let existing = container(named: spec.containerName),
                !RuntimeLabels.belongs(existing.labels, to: plan.topologyID)
            {
                let owner = existing.labels[RuntimeLabels.topologyID].map { "topology \($0)" } ?? "nobody we know"
                throw RuntimeFailure(
                    .failed,
                    phase: "containers",
                    "container name \(spec.containerName) is taken by a container of \(owner), not of topology "
                        + "\(plan.topologyID); it is left untouched"
                )
            }
        }
    }
}
