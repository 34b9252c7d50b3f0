import AgentProtocol
import AgentStore
import DecnetJSON
import Logging
import SystemFiles
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
        if let refusal = await stateDirectoryRefusal() { return .failure(refusal) }
        let topologyID = request.hydrated["topology"]?["id"]?.stringValue
        let run = ApplyRun(
            request: request,
            progress: progress,
            logger: logger(requestID: requestID, topologyID: topologyID)
        )
        // The steps, in this order. Steps 1 to 5 only read (the hydrated topology, the store, the engine's published
        // ports), so a kill -9 during them leaves the store and Docker as they were; the request's row stays
        // `running` and the next start marks it interrupted. From step 6 on Docker changes, and what a kill leaves is
        // always told by the store:
        //
        //  6 record intent   the attempt row says "apply did not complete: the agent stopped while it was
        //                    running" before the first Docker change. Killed after it, `state` shows that attempt
        //                    and observes the attempt's topology by label (`observed` follows the attempt when
        //                    nothing is applied), so half-made objects are visible, never hidden.
        //  7 supersede       the old topology is torn down by label, then its row cleared. Killed in between, the
        //                    old row names objects that are gone: `state` shows them missing (drift). A re-apply
        //                    with `supersede` tears down by label again (idempotent), and a teardown works by label
        //                    alone (docs/deviations.md#teardown-by-label).
        //  8 compose file    written (atomically) before the containers, so an operator can inspect a half-made
        //                    topology with `docker compose`; a teardown removes it.
        //  9 materialise     creates what the plan names. Killed half-way, the labelled objects stay and the applied
        //                    row still names what was applied before (never this hash): a re-apply of the same
        //                    request id is answered `interrupted`, a new apply reconciles what exists (creation is
        //                    idempotent by name and spec), a teardown removes it by label.
        // 10 record applied  the applied row, written only after everything runs, so `applied_version_hash` only
        //                    ever names a topology applied completely; it clears the attempt in the same
        //                    transaction. Killed after it but before the dispatcher stored the result, `state` says
        //                    applied and the re-sent request is answered interrupted (docs/reliability.md).
        do throws(ApplyStop) {
            try verifyHash(run)  // 1
            let topologyID = try validate(run)  // 2
            let plan = try compose(run)  // 3
            let (current, superseded) = try await checkConflict(run, topologyID: topologyID)  // 4
            try await checkHostPorts(run, plan, topologyID: topologyID, superseded: superseded)  // 5
            await noteAttempt(
                topologyID,
                request,
                "apply did not complete: the agent stopped while it was running",
                logger: run.logger
            )  // 6
            if let superseded { try await supersede(run, superseded) }  // 7
            try writeComposeDocument(plan)  // 8
            let wasApplied = current?.topologyID == topologyID
            try await materialise(run, plan, topologyID: topologyID, wasApplied: wasApplied)  // 9
            try await recordApplied(run, plan, topologyID: topologyID, wasApplied: wasApplied)  // 10
        } catch {
            if error.recordsAttempt {
                await noteAttempt(
                    topologyID,
                    request,
                    "[\(error.error.code.rawValue)] \(error.error.message)",
                    logger: run.logger
                )
            }
            return .failure(error.error)
        }
        progress(.record, 1, 1, "applied")
        return .success(["status": "applied", "version_hash": .string(JSONString(request.versionHash))])
    }

    /// 1. The master's hash must be the agent's canonical hash of what it received.
    private func verifyHash(_ run: ApplyRun) throws(ApplyStop) {
        run.progress(.verify, 0, 1, "checking the version hash")
        let actual = CanonicalHash.hash(run.request.hydrated)
        guard actual == run.request.versionHash else {
            throw ApplyStop(
                AgentError(
                    .hashMismatch,
                    "master hash does not match the agent's canonical hash; refusing to apply",
                    details: [
                        "expected": .string(JSONString(run.request.versionHash)), "actual": .string(JSONString(actual)),
                    ]
                )
            )
        }
    }

    /// 2. The validator's rules, then (when those pass) what materialising and the files confinement need; answers
    /// the topology's id.
    private func validate(_ run: ApplyRun) throws(ApplyStop) -> String {
        let hydrated = run.request.hydrated
        run.progress(.validate, 0, 1, "validating")
        let report = settings.validator.validate(hydrated)
        var issues = report.issues
        if !report.hasErrors {
            issues += settings.validator.materialisationIssues(hydrated)
            issues += settings.files.issues(hydrated, catalog: settings.catalog)
        }
        let errors = issues.filter { $0.severity == .error }
        if !errors.isEmpty {
            let summary = errors.prefix(20).map { "[\($0.code)] \($0.message)" }.joined(separator: "; ")
            throw ApplyStop(
                AgentError(
                    .invalidTopology,
                    "\(errors.count) topology validation error(s): \(summary)",
                    details: ["issues": .array(issues.map(\.jsonValue))]
                )
            )
        }
        guard let topologyID = hydrated["topology"]?["id"]?.stringValue else {
            // Unreachable after materialisationIssues, kept as a guard rather than a trap (no id: no attempt).
            throw ApplyStop(
                AgentError(.invalidTopology, "hydrated topology has no topology.id", details: ["issues": .array([])]),
                recordsAttempt: false
            )
        }
        return topologyID
    }

    /// 3. The compose plan, and the Docker names it would use twice.
    private func compose(_ run: ApplyRun) throws(ApplyStop) -> ComposePlan {
        let plan: ComposePlan
        do {
            plan = try settings.composer.compose(run.request.hydrated).mergingDuplicatePorts()
        } catch {
            let issue = ValidationIssue(
                code: TopologyValidator.malformedCode,
                message: error.message,
                target: ["path": .string(JSONString(error.path ?? ""))]
            )
            throw ApplyStop(
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
            throw ApplyStop(
                AgentError(
                    .invalidTopology,
                    "\(collisions.count) Docker name(s) would be used twice: "
                        + collisions.map { $0.message }.joined(separator: "; "),
                    details: ["issues": .array(collisions.map(\.jsonValue))]
                )
            )
        }
        return plan
    }

    /// 4. One topology per agent: another one applied is a conflict unless the master asked to supersede it.
    /// Answers the applied row and, when it is another topology, the one to supersede. A store that cannot be read
    /// is answered without recording an attempt (it could not be recorded either).
    private func checkConflict(
        _ run: ApplyRun,
        topologyID: String
    ) async throws(ApplyStop) -> (current: AppliedTopology?, superseded: AppliedTopology?) {
        let current: AppliedTopology?
        do {
            current = try await store.run { try $0.current() }
        } catch {
            throw ApplyStop(
                AgentError(.internal, "cannot read the store: \(error)", details: ["phase": "verify"]),
                recordsAttempt: false
            )
        }
        let superseded = current.flatMap { $0.topologyID == topologyID ? nil : $0 }
        if let superseded, !run.request.supersede {
            throw ApplyStop(
                AgentError(
                    .conflict,
                    "agent already has topology \(superseded.topologyID); cannot apply \(topologyID)",
                    details: ["applied_topology_id": .string(JSONString(superseded.topologyID))]
                )
            )
        }
        return (current, superseded)
    }

    /// 5. Host ports the plan publishes twice, or that something other than this topology (or the one it
    /// supersedes) already holds.
    private func checkHostPorts(
        _ run: ApplyRun,
        _ plan: ComposePlan,
        topologyID: String,
        superseded: AppliedTopology?
    ) async throws(ApplyStop) {
        run.progress(.preflight, 0, 1, "checking host ports")
        let conflicts: [PortConflict]
        do {
            var owners = [topologyID]
            if let superseded { owners.append(superseded.topologyID) }
            let owned = try await runtime.publishedHostPorts(topologyIDs: owners)
            conflicts = try preflight.check(plan, ownedPorts: owned)
        } catch let failure as RuntimeFailure {
            throw ApplyStop(Self.agentError(failure))
        } catch {
            throw ApplyStop(
                AgentError(.internal, "cannot check host ports: \(error)", details: ["phase": "preflight"])
            )
        }
        if !conflicts.isEmpty {
            let text = conflicts.map { "\($0.port)/\($0.proto.rawValue) (\($0.reason.rawValue))" }
            throw ApplyStop(
                AgentError(
                    .portConflict,
                    "host ports collide or are already bound: \(text.joined(separator: ", "))",
                    details: ["ports": .array(conflicts.map(\.jsonValue))]
                )
            )
        }
    }

    /// 7. Tears the superseded topology down (by label, in its stored order when the catalog can still compose it),
    /// then clears its row. A row that cannot be cleared is left to step 10, which then refuses (`already_applied`).
    private func supersede(_ run: ApplyRun, _ superseded: AppliedTopology) async throws(ApplyStop) {
        let old = try? storedPlan(superseded)
        let progress = run.progress
        do throws(RuntimeFailure) {
            _ = try await runtime.teardown(
                topologyID: superseded.topologyID,
                teardownOrder: old?.teardownOrder ?? []
            ) { p in progress(.teardown, p.done, p.total, "superseding: \(p.message)") }
        } catch {
            throw ApplyStop(Self.agentError(error))
        }
        removeComposeFiles(topologyID: superseded.topologyID)
        do {
            _ = try await store.write { try $0.clear(topologyID: superseded.topologyID) }
        } catch {
            run.logger.warning(
                "cannot clear the superseded topology from the store",
                metadata: [
                    "superseded_topology_id": "\(superseded.topologyID)", "error": "\(error)",
                ]
            )
        }
    }

    /// 8. The compose document for operators.
    private func writeComposeDocument(_ plan: ComposePlan) throws(ApplyStop) {
        do {
            try writeComposeFile(plan)
        } catch {
            throw ApplyStop(
                AgentError(
                    .internal,
                    "cannot write the compose file \(composeFilePath(plan)): \(FileErrorText.reason(error))",
                    details: ["phase": "record"]
                )
            )
        }
    }

    /// 9. Creates the plan's bridges, images and containers. A failed re-apply records its error on the applied row
    /// (what runs stays); a failed first apply removes its compose file.
    private func materialise(
        _ run: ApplyRun,
        _ plan: ComposePlan,
        topologyID: String,
        wasApplied: Bool
    ) async throws(ApplyStop) {
        let progress = run.progress
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
                    run.logger.warning(
                        "cannot record the failed re-apply's error on the applied topology",
                        metadata: [
                            "error": "\(storeError)", "apply_error": "\(message)",
                        ]
                    )
                }
            }
            if !wasApplied { removeComposeFiles(topologyID: topologyID) }
            throw ApplyStop(Self.agentError(error))
        }
    }

    /// 10. The applied row (which clears the attempt). When it cannot be written, a first apply is rolled back so
    /// nothing unrecorded runs (docs/deviations.md#failed-first-apply); a failed re-apply leaves what runs.
    private func recordApplied(
        _ run: ApplyRun,
        _ plan: ComposePlan,
        topologyID: String,
        wasApplied: Bool
    ) async throws(ApplyStop) {
        run.progress(.record, 0, 1, "recording")
        let at = now()
        let (hash, hydrated) = (run.request.versionHash, run.request.hydrated)
        do {
            try await store.write { store in
                try store.put(topologyID: topologyID, versionHash: hash, hydrated: hydrated, at: at)
            }
        } catch {
            if !wasApplied {
                do throws(RuntimeFailure) {
                    _ = try await runtime.teardown(topologyID: topologyID, teardownOrder: plan.teardownOrder) { _ in }
                } catch let failure {
                    // The labelled objects stay; the next apply or teardown finds them.
                    run.logger.warning(
                        "cannot roll back an apply that could not be recorded",
                        metadata: [
                            "error": "\(failure.message)", "phase": "\(failure.phase)",
                        ]
                    )
                }
                removeComposeFiles(topologyID: topologyID)
            }
            throw ApplyStop(
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

/// One apply's request, progress sink and logger, passed through the steps.
private struct ApplyRun {
    let request: ApplyRequest
    let progress: TopologyOperations.Progress
    let logger: Logger
}

/// Why an apply stopped: answered with `error`, and recorded as the last attempt unless `recordsAttempt` is false.
private struct ApplyStop: Error {
    let error: AgentError
    let recordsAttempt: Bool

    init(_ error: AgentError, recordsAttempt: Bool = true) {
        self.error = error
        self.recordsAttempt = recordsAttempt
    }
}
