import AgentProtocol
import AgentStore
import DecnetJSON
import FileErrors
import Logging
import Topology

extension TopologyOperations {
    /// Applies a hydrated topology: verify the hash, validate, compose, check conflicts and host ports, (supersede),
    /// materialise, record. Every failure after the hash check is recorded as the last attempt
    /// (docs/deviations.md#attempts), and `applied_version_hash` only ever names a topology that was applied
    /// completely. `requestID` only labels the log lines.
    public func apply(
        _ request: ApplyRequest,
        requestID: String? = nil,
        progress: @escaping Progress
    ) async -> Result<JSONValue, AgentError> {
        let hydrated = request.hydrated
        let topologyID = hydrated["topology"]?["id"]?.stringValue
        if let refusal = await stateDirectoryRefusal() { return .failure(refusal) }
        let logger = self.logger(requestID: requestID, topologyID: topologyID)
        /// Records `error` as the last attempt, then answers it.
        func fail(_ error: AgentError) async -> Result<JSONValue, AgentError> {
            await failed(topologyID, request, error, logger: logger)
        }

        progress(.verify, 0, 1, "checking the version hash")
        let actual = CanonicalHash.hash(hydrated)
        guard actual == request.versionHash else {
            return await fail(
                AgentError(
                    .hashMismatch,
                    "master hash does not match the agent's canonical hash; refusing to apply",
                    details: [
                        "expected": .string(JSONString(request.versionHash)), "actual": .string(JSONString(actual)),
                    ]
                )
            )
        }

        progress(.validate, 0, 1, "validating")
        let report = settings.validator.validate(hydrated)
        var issues = report.issues
        if !report.hasErrors {
            issues += settings.validator.materialisationIssues(hydrated)
            issues += settings.files.issues(hydrated, catalog: settings.catalog)
        }
        let errors = issues.filter { $0.severity == .error }
        if !errors.isEmpty {
            let summary = errors.prefix(20).map { "[\($0.code)] \($0.message)" }.joined(separator: "; ")
            return await fail(
                AgentError(
                    .invalidTopology,
                    "\(errors.count) topology validation error(s): \(summary)",
                    details: ["issues": .array(issues.map(\.jsonValue))]
                )
            )
        }
        guard let topologyID else {
            // Unreachable after materialisationIssues, kept as a guard rather than a trap.
            return .failure(
                AgentError(
                    .invalidTopology,
                    "hydrated topology has no topology.id",
                    details: ["issues": .array([])]
                )
            )
        }

        let plan: ComposePlan
        do {
            plan = try settings.composer.compose(hydrated).mergingDuplicatePorts()
        } catch {
            let issue = ValidationIssue(
                code: TopologyValidator.malformedCode,
                message: error.message,
                target: ["path": .string(JSONString(error.path ?? ""))]
            )
            return await fail(
                AgentError(
                    .invalidTopology,
                    "cannot compose the topology: \(error.message)",
                    details: ["issues": .array([issue.jsonValue])]
                )
            )
        }

        // Names the composer derives can still meet: a service container `<decky>-<svc>` and a base
        // `decnet_t_<id8>_<decky>`, or two LAN names that differ only by case (one bridge, two subnets).
        let collisions = Self.nameCollisions(plan)
        if !collisions.isEmpty {
            return await fail(
                AgentError(
                    .invalidTopology,
                    "\(collisions.count) Docker name(s) would be used twice: "
                        + collisions.map { $0.message }.joined(separator: "; "),
                    details: ["issues": .array(collisions.map(\.jsonValue))]
                )
            )
        }

        // One topology per agent: another one applied is a conflict unless the master asked to supersede it.
        let current: AppliedTopology?
        do {
            current = try await store.run { try $0.current() }
        } catch {
            return .failure(AgentError(.internal, "cannot read the store: \(error)", details: ["phase": "verify"]))
        }
        let superseded = current.flatMap { $0.topologyID == topologyID ? nil : $0 }
        if let superseded, !request.supersede {
            return await fail(
                AgentError(
                    .conflict,
                    "agent already has topology \(superseded.topologyID); cannot apply \(topologyID)",
                    details: ["applied_topology_id": .string(JSONString(superseded.topologyID))]
                )
            )
        }

        progress(.preflight, 0, 1, "checking host ports")
        do {
            var owners = [topologyID]
            if let superseded { owners.append(superseded.topologyID) }
            let owned = try await runtime.publishedHostPorts(topologyIDs: owners)
            let conflicts = try preflight.check(plan, ownedPorts: owned)
            if !conflicts.isEmpty {
                let text = conflicts.map { "\($0.port)/\($0.proto.rawValue) (\($0.reason.rawValue))" }
                return await fail(
                    AgentError(
                        .portConflict,
                        "host ports collide or are already bound: \(text.joined(separator: ", "))",
                        details: ["ports": .array(conflicts.map(\.jsonValue))]
                    )
                )
            }
        } catch let failure as RuntimeFailure {
            return await fail(Self.agentError(failure))
        } catch {
            return await fail(
                AgentError(
                    .internal,
                    "cannot check host ports: \(error)",
                    details: ["phase": "preflight"]
                )
            )
        }

        // From here on Docker changes. Mark the attempt first, so that an agent killed half-way tells the truth.
        await noteAttempt(
            topologyID,
            request,
            "apply did not complete: the agent stopped while it was running",
            logger: logger
        )

        if let superseded {
            // A stored topology the current catalog cannot compose is torn down by label alone, networks by name.
            let old = try? storedPlan(superseded)
            do throws(RuntimeFailure) {
                _ = try await runtime.teardown(
                    topologyID: superseded.topologyID,
                    teardownOrder: old?.teardownOrder ?? []
                ) { p in progress(.teardown, p.done, p.total, "superseding: \(p.message)") }
            } catch {
                return await fail(Self.agentError(error))
            }
            removeComposeFiles(topologyID: superseded.topologyID)
            do {
                _ = try await store.write { try $0.clear(topologyID: superseded.topologyID) }
            } catch {
                // Left to the record step, which then refuses (`already_applied`): this line says why.
                logger.warning(
                    "cannot clear the superseded topology from the store",
                    metadata: [
                        "superseded_topology_id": "\(superseded.topologyID)", "error": "\(error)",
                    ]
                )
            }
        }

        do {
            try writeComposeFile(plan)
        } catch {
            return await fail(
                AgentError(
                    .internal,
                    "cannot write the compose file \(composeFilePath(plan)): \(FileErrorText.reason(error))",
                    details: ["phase": "record"]
                )
            )
        }

        let wasApplied = current?.topologyID == topologyID
        do throws(RuntimeFailure) {
            _ = try await runtime.materialise(plan, wasApplied: wasApplied) { p in
                let phase: Phase
                switch p.phase {
                case .networks: phase = .networks
                case .images: phase = .images
                case .containers: phase = .containers
                case .teardown: phase = .teardown
                }
                progress(phase, p.done, p.total, p.message)
            }
        } catch {
            if wasApplied {
                let message = String(error.description.prefix(500))
                do {
                    _ = try await store.write { try $0.recordError(topologyID: topologyID, message: message) }
                } catch let storeError {
                    logger.warning(
                        "cannot record the failed re-apply's error on the applied topology",
                        metadata: [
                            "error": "\(storeError)", "apply_error": "\(message)",
                        ]
                    )
                }
            }
            if !wasApplied { removeComposeFiles(topologyID: topologyID) }
            return await fail(Self.agentError(error))
        }

        progress(.record, 0, 1, "recording")
        let at = now()
        do {
            try await store.write { store in
                try store.put(topologyID: topologyID, versionHash: request.versionHash, hydrated: hydrated, at: at)
            }
        } catch {
            // docs/deviations.md#failed-first-apply: a failed first apply leaves nothing running. (A failed re-apply
            // leaves what runs.)
            if !wasApplied {
                do throws(RuntimeFailure) {
                    _ = try await runtime.teardown(topologyID: topologyID, teardownOrder: plan.teardownOrder) { _ in }
                } catch let failure {
                    // The labelled objects stay; the next apply or teardown finds them.
                    logger.warning(
                        "cannot roll back an apply that could not be recorded",
                        metadata: [
                            "error": "\(failure.message)", "phase": "\(failure.phase)",
                        ]
                    )
                }
                removeComposeFiles(topologyID: topologyID)
            }
            return await fail(
                AgentError(
                    .internal,
                    "the topology could not be recorded: \(error)",
                    details: [
                        "phase": "record",
                        "store": .string(JSONString((error as? StoreError)?.code.description ?? "unknown")),
                    ]
                )
            )
        }
        progress(.record, 1, 1, "applied")
        return .success(["status": "applied", "version_hash": .string(JSONString(request.versionHash))])
    }

    /// Containers or bridges of the plan that share a Docker name (issue code `NAME_COLLISION`).
    static func nameCollisions(_ plan: ComposePlan) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        func duplicates(_ names: [String], _ kind: String) {
            var seen = Set<JSONString>()
            var reported = Set<JSONString>()
            for name in names.map({ JSONString($0) })
            where !seen.insert(name).inserted && reported.insert(name).inserted {
                issues.append(
                    ValidationIssue(
                        code: "NAME_COLLISION",
                        message: "\(kind) name \"\(name.value)\" would be used twice",
                        target: [kind: .string(name)]
                    )
                )
            }
        }
        duplicates(plan.containers.map(\.containerName), "container")
        var bridgeSubnets: [JSONString: String] = [:]
        var bridgeNames: [String] = []
        for bridge in plan.bridges {
            let key = JSONString(bridge.name)
            // The same LAN listed twice with one subnet is one bridge; two subnets behind one name is a collision.
            if let subnet = bridgeSubnets[key], subnet == bridge.subnet { continue }
            bridgeSubnets[key] = bridge.subnet
            bridgeNames.append(bridge.name)
        }
        duplicates(bridgeNames, "bridge")
        return issues
    }

    /// Records the failure as the last attempt (best effort: a broken store must not hide the real error).
    private func failed(
        _ topologyID: String?,
        _ request: ApplyRequest,
        _ error: AgentError,
        logger: Logger
    ) async -> Result<JSONValue, AgentError> {
        await noteAttempt(topologyID, request, "[\(error.code.rawValue)] \(error.message)", logger: logger)
        return .failure(error)
    }

    private func noteAttempt(_ topologyID: String?, _ request: ApplyRequest, _ message: String, logger: Logger) async {
        guard let topologyID else { return }
        let at = now()
        let hash = request.versionHash
        let text = String(message.prefix(500))
        do {
            try await store.write { store in
                try store.recordAttempt(topologyID: topologyID, versionHash: hash, at: at, error: text)
            }
        } catch {
            logger.warning(
                "cannot record the apply attempt",
                metadata: [
                    "error": "\(error)", "attempt": "\(text.prefix(300))",
                ]
            )
        }
    }
}
