import DecnetJSON
import DockerEngine
import Logging
import Topology

extension DockerTopologyRuntime {
    /// Creates or reuses one bridge per LAN, in plan order (docs/deviations.md#exact-bridge-reuse).
    ///
    /// A network is reused only when its name matches exactly, it carries this topology's label, and its driver,
    /// first subnet and internal flag all match. A network of ours that differs is emptied (its endpoints
    /// force-disconnected) and recreated; the names of the containers that were attached come back, so they are
    /// recreated too. Ownership was checked before: networks without our label never get here.
    func reconcileBridges(
        _ plan: ComposePlan,
        inventory: RuntimeInventory,
        ledger: MaterialiseLedger,
        progress: @escaping @Sendable (RuntimeProgress) -> Void
    ) async throws(RuntimeFailure) -> Set<String> {
        let bridges = Self.uniqueBridges(plan.bridges)
        var detached = Set<String>()
        for (index, bridge) in bridges.enumerated() {
            progress(RuntimeProgress(phase: .networks, done: index, total: bridges.count, message: bridge.name))
            let existing = inventory.networks(named: bridge.name)
            if existing.count == 1, Self.matches(existing[0], bridge) { continue }
            do throws(DockerError) {
                for network in existing {
                    detached.formUnion(try await empty(network))
                    try await ignoringNotFound { () async throws(DockerError) in
                        try await self.retrying("remove network \(network.name)") { () async throws(DockerError) in
                            try await self.client.removeNetwork(network.id)
                        }
                    }
                }
                let spec = DockerNetworkSpec(
                    name: bridge.name,
                    driver: "bridge",
                    isInternal: bridge.internal,
                    pools: [DockerNetwork.Pool(subnet: bridge.subnet)],
                    labels: RuntimeLabels.network(bridge, plan: plan)
                )
                let id = try await retrying("create network \(bridge.name)") { () async throws(DockerError) in
                    try await self.client.createNetwork(spec)
                }
                ledger.networkCreated(bridge.name, id: id)
            } catch {
                throw RuntimeFailure.docker(error, phase: "networks", "cannot create network \(bridge.name)")
            }
        }
        progress(
            RuntimeProgress(phase: .networks, done: bridges.count, total: bridges.count, message: "networks ready")
        )
        return detached
    }

    /// Force-disconnects every container attached to `network` (the list endpoint does not name them: inspect
    /// does) and returns their names.
    private func empty(_ network: DockerNetwork) async throws(DockerError) -> Set<String> {
        let detailed: DockerNetwork
        do {
            detailed = try await retrying("inspect network \(network.name)") { () async throws(DockerError) in
                try await self.client.inspectNetwork(network.id)
            }
        } catch  where error.code == .notFound {
            return []
        }
        var names = Set<String>()
        for attachment in detailed.containers {
            names.insert(attachment.name)
            try await ignoringNotFound { () async throws(DockerError) in
                try await self.retrying("disconnect \(attachment.name)") { () async throws(DockerError) in
                    try await self.client.disconnectNetwork(network.id, container: attachment.containerID, force: true)
                }
            }
        }
        return names
    }

    /// Removes networks of this topology that the plan no longer has (a LAN was dropped). Best effort: a network
    /// that still has endpoints stays, and teardown will take it; any other failure is logged at warning.
    func removeStaleBridges(_ plan: ComposePlan) async {
        let wanted = Set(plan.bridges.map { JSONString($0.name) })
        let networks: [DockerNetwork]
        do {
            networks = try await retrying("list networks") { () async throws(DockerError) in
                try await self.client.listNetworks(filters: .label(RuntimeLabels.topologyID, plan.topologyID))
            }
        } catch {
            logger.warning(
                "cannot list the topology's networks; stale bridges stay until teardown",
                metadata: [
                    "topology_id": "\(plan.topologyID)", "error": "\(String(describing: error).prefix(500))",
                ]
            )
            return
        }
        for network in networks where !wanted.contains(JSONString(network.name)) {
            guard RuntimeLabels.belongs(network.labels, to: plan.topologyID) else { continue }
            do {
                try await client.removeNetwork(network.id)
            } catch  where error.code == .conflict || error.code == .notFound {
                continue  // still has endpoints (Docker answers 403), or already gone: expected
            } catch {
                logger.warning(
                    "cannot remove a stale bridge; teardown will take it",
                    metadata: [
                        "topology_id": "\(plan.topologyID)", "network": "\(network.name)",
                        "error": "\(String(describing: error).prefix(500))",
                    ]
                )
            }
        }
    }

    /// Whether an existing network can serve as `bridge`.
    static func matches(_ network: DockerNetwork, _ bridge: BridgeSpec) -> Bool {
        network.driver == "bridge" && network.firstSubnet == bridge.subnet && network.isInternal == bridge.internal
    }

    /// One spec per network name: LANs whose names lower-case alike share a network, and the last LAN's subnet wins
    /// (as DECNET's create-then-recreate loop ends), in the position of the first.
    static func uniqueBridges(_ bridges: [BridgeSpec]) -> [BridgeSpec] {
        var result: [BridgeSpec] = []
        var index: [JSONString: Int] = [:]
        for bridge in bridges {
            let key = JSONString(bridge.name)
            if let i = index[key] {
                result[i] = bridge
            } else {
                index[key] = result.count
                result.append(bridge)
            }
        }
        return result
    }
}

/// Runs `body`; a `notFound` answer means the object is already gone, which is what the caller wanted.
func ignoringNotFound(_ body: () async throws(DockerError) -> Void) async throws(DockerError) {
    do {
        try await body()
    } catch  where error.code == .notFound {
        return
    }
}
