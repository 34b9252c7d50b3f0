import DecnetJSON
import DockerEngine
import Topology

extension DockerTopologyRuntime {
    /// A decky's base container and the service containers that join its network namespace.
    struct DeckyWork: Sendable {
        var base: ContainerBlueprint
        var services: [ContainerBlueprint]
    }

    /// What the concurrent decky tasks of one materialise share.
    struct ReconcileContext: Sendable {
        /// This topology's containers as they were before, by exact name.
        var existing: [JSONString: ExistingContainer]
        /// Containers that were attached to a bridge that had to be recreated.
        var detached: Set<String>
        var ledger: MaterialiseLedger
        var progress: @Sendable (RuntimeProgress) -> Void
        var total: Int

        func existing(_ name: String) -> ExistingContainer? { existing[JSONString(name)] }

        func settled(_ name: String, _ action: ContainerAction, existedBefore: Bool) {
            let done = ledger.settled(name, action, existedBefore: existedBefore)
            progress(
                RuntimeProgress(phase: .containers, done: done, total: total, message: "\(name): \(action.rawValue)")
            )
        }
    }

    /// Removes this topology's containers the plan no longer has (compose's `--remove-orphans`), then brings every
    /// decky to its plan: bases concurrently (bounded), each base's services after it, concurrently (bounded).
    func reconcileContainers(
        _ plan: ComposePlan,
        inventory: RuntimeInventory,
        images: [ContainerSpec.ImageSource: ResolvedImage],
        detached: Set<String>,
        ledger: MaterialiseLedger,
        progress: @escaping @Sendable (RuntimeProgress) -> Void
    ) async throws(RuntimeFailure) {
        let work = try deckyWork(plan, images: images)
        let owned = inventory.ownedContainers(plan.topologyID)
        let planned = Set(plan.containers.map { JSONString($0.containerName) })
        try await removeContainers(owned.filter { !planned.contains(JSONString($0.name)) }, phase: "containers")

        var existing: [JSONString: ExistingContainer] = [:]
        for container in owned where existing[JSONString(container.name)] == nil {
            existing[JSONString(container.name)] = container
        }
        let context = ReconcileContext(
            existing: existing,
            detached: detached,
            ledger: ledger,
            progress: progress,
            total: plan.containers.count
        )
        progress(RuntimeProgress(phase: .containers, done: 0, total: context.total, message: "containers"))
        try await runBounded(work, limit: configuration.containerConcurrency) { decky throws(RuntimeFailure) in
            try await self.reconcile(decky, context)
        }
    }

    /// The plan's containers grouped by decky, as blueprints.
    func deckyWork(
        _ plan: ComposePlan,
        images: [ContainerSpec.ImageSource: ResolvedImage]
    ) throws(RuntimeFailure)
        -> [DeckyWork]
    {
        let composeFile = configuration.composeFilePath(plan.composeFileName)
        let directory = configuration.topologiesDirectory
        var work: [DeckyWork] = []
        var bases: [JSONString: Int] = [:]
        for spec in plan.containers {
            guard let image = images[spec.image] else {
                throw RuntimeFailure(.failed, phase: "images", "no image was resolved for \(spec.containerName)")
            }
            switch spec.network {
            case .bridges:
                bases[JSONString(spec.serviceKey)] = work.count
                work.append(
                    DeckyWork(
                        base: .make(
                            spec,
                            plan: plan,
                            image: image,
                            baseName: nil,
                            composeFile: composeFile,
                            workingDirectory: directory
                        ),
                        services: []
                    )
                )
            case .service(let baseKey):
                // The composer always emits a base before its services.
                guard let index = bases[JSONString(baseKey)] else {
                    throw RuntimeFailure(
                        .failed,
                        phase: "containers",
                        "\(spec.containerName) joins the namespace of \(baseKey), "
                            + "which is not a base container of the plan"
                    )
                }
                work[index].services.append(
                    .make(
                        spec,
                        plan: plan,
                        image: image,
                        baseName: work[index].base.name,
                        composeFile: composeFile,
                        workingDirectory: directory
                    )
                )
            }
        }
        return work
    }

    /// Brings one decky to its plan. A base that is recreated takes its service containers with it
    /// (`--always-recreate-deps`): they are removed before it and created after it.
    func reconcile(_ decky: DeckyWork, _ context: ReconcileContext) async throws(RuntimeFailure) {
        let base = decky.base
        let existingBase = context.existing(base.name)
        let action = ContainerAction.forBase(
            existing: existingBase,
            configHash: base.configHash,
            forced: context.detached.contains(base.name)
        )
        var removed = Set<String>()
        let baseID: String
        switch (action, existingBase) {
        case (.keep, let existing?):
            baseID = existing.id
        case (.start, let existing?), (.restart, let existing?):
            try await start(existing.id, name: existing.name)
            baseID = existing.id
        case (.recreate, let existing?):
            for service in decky.services {
                guard let old = context.existing(service.name) else { continue }
                try await stopAndRemove(old, phase: "containers")
                removed.insert(service.name)
            }
            try await stopAndRemove(existing, phase: "containers")
            baseID = try await createAndStart(base, context)
        default:
            baseID = try await createAndStart(base, context)
        }
        context.settled(base.name, action, existedBefore: existingBase != nil)

        let baseStarted = action != .keep
        let removedNames = removed
        try await runBounded(decky.services, limit: configuration.containerConcurrency) {
            service throws(RuntimeFailure) in
            let wasRemoved = removedNames.contains(service.name)
            let existing = wasRemoved ? nil : context.existing(service.name)
            let serviceAction = ContainerAction.forService(
                existing: existing,
                configHash: service.configHash,
                forced: context.detached.contains(service.name),
                baseID: baseID,
                baseStarted: baseStarted
            )
            switch (serviceAction, existing) {
            case (.keep, _?):
                break
            case (.start, let old?):
                try await self.start(old.id, name: old.name)
            case (.restart, let old?):
                try await self.stop(old, phase: "containers")
                try await self.start(old.id, name: old.name)
            case (.recreate, let old?):
                try await self.stopAndRemove(old, phase: "containers")
                _ = try await self.createAndStart(service, context)
            default:
                _ = try await self.createAndStart(service, context)
            }
            context.settled(service.name, serviceAction, existedBefore: wasRemoved || existing != nil)
        }
    }

    /// Creates a container, connects its other bridges with their static addresses, starts it; returns its id.
    func createAndStart(
        _ blueprint: ContainerBlueprint,
        _ context: ReconcileContext
    ) async throws(RuntimeFailure)
        -> String
    {
        let id = try await create(blueprint)
        context.ledger.containerCreated(blueprint.name, id: id)
        for attachment in blueprint.extraNetworks {
            try await step("connect \(blueprint.name) to \(attachment.network)", phase: "containers") {
                () async throws(DockerError) in
                try await self.client.connectNetwork(
                    attachment.network,
                    container: id,
                    ipv4Address: attachment.ipv4Address,
                    aliases: [blueprint.spec.serviceKey]
                )
            }
        }
        try await start(id, name: blueprint.name)
        return id
    }

    /// `POST /containers/create`. When a retried create meets its own first attempt (the answer was lost, the
    /// container was made), the container with our config hash is taken.
    func create(_ blueprint: ContainerBlueprint) async throws(RuntimeFailure) -> String {
        do {
            return try await retrying("create \(blueprint.name)") { () async throws(DockerError) in
                try await self.client.createContainer(name: blueprint.name, body: blueprint.body).id
            }
        } catch {
            // A failed look-up leaves the create's own error to report.
            if error.code == .conflict, let made = try? await client.container(named: blueprint.name),
                made.labels[RuntimeLabels.configHash] == blueprint.configHash
            {
                return made.id
            }
            throw RuntimeFailure.docker(error, phase: "containers", "cannot create \(blueprint.name)")
        }
    }

    func start(_ id: String, name: String) async throws(RuntimeFailure) {
        try await step("start \(name)", phase: "containers") { () async throws(DockerError) in
            do throws(DockerError) {
                try await self.client.startContainer(id)
            } catch  where error.code == .notModified {
                return
            }
        }
    }

    func stop(_ container: ExistingContainer, phase: String) async throws(RuntimeFailure) {
        try await step("stop \(container.name)", phase: phase) { () async throws(DockerError) in
            do throws(DockerError) {
                try await self.client.stopContainer(container.id, timeout: self.configuration.stopTimeout)
            } catch  where error.code == .notModified || error.code == .notFound {
                return
            }
        }
    }

    /// Stops (short grace period; containers run with an init) and removes a container with its anonymous volumes.
    func stopAndRemove(_ container: ExistingContainer, phase: String) async throws(RuntimeFailure) {
        try await stop(container, phase: phase)
        try await step("remove \(container.name)", phase: phase) { () async throws(DockerError) in
            try await ignoringNotFound { () async throws(DockerError) in
                try await self.client.removeContainer(container.id, force: true, volumes: true)
            }
        }
    }

    /// Stops and removes containers, service containers before the bases whose namespace they share.
    func removeContainers(_ containers: [ExistingContainer], phase: String) async throws(RuntimeFailure) {
        for group in ExistingContainer.dependantsFirst(containers) {
            try await runBounded(group, limit: configuration.containerConcurrency) { container throws(RuntimeFailure) in
                try await self.stopAndRemove(container, phase: phase)
            }
        }
    }
}
