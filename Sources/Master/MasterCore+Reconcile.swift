import AgentProtocol
import AgentStore
import DecnetJSON
import Foundation
import Logging
import MasterStore
import Topology

/// The effects of reconciling (docs/control-channel.md#reconcile): the core loads the desired state from its store,
/// feeds the pure ``ReconcileDecision`` with what agents report, and starts the pushes and teardowns it decides.
extension MasterCore {
    /// Loads the desired state, the agents seen before and the requests a previous master left in flight (they are
    /// sent again, same id, when their agent says hello). Called once before the sockets serve.
    public func openDesiredState(store: MasterStore?, settings: ReconcileSettings) throws(StoreError) {
        var keeper = ReconcileKeeper(
            store: store,
            decision: ReconcileDecision(clock: MillisClock(clock), settings: settings)
        )
        defer { self.keeper = keeper }
        guard let store else { return }
        let wallNow = wallClock()
        for record in try store.allDesired() {
            if let topology = record.topology {
                // What is pushed is the stored blob with the stored hash: check once that they still agree.
                guard let value = try? JSONParser.parse(topology.hydrated, maxDepth: WireProtocol.maxDepth),
                    CanonicalHash.hash(value) == topology.versionHash
                else {
                    logger.error(
                        "desired topology in the store does not match its hash; not reconciled",
                        metadata: ["agent": "\(record.agentID)", "topology": "\(topology.id)"]
                    )
                    continue
                }
            }
            keeper.desired[record.agentID] = record
        }
        keeper.appliedHere = try store.appliedHere()
        for agent in try store.agents() {
            keeper.stored[agent.agentID] = agent
            if agent.paused { keeper.histories[agent.agentID, default: .init()].paused = true }
        }
        let now = clock()
        for request in try store.unfinishedRequests() {
            let key = RequestKey(agentID: request.agentID, requestID: request.requestID)
            let left = request.deadlineAt - wallNow
            guard left > 0,
                case .object(let envelope)? = try? JSONParser.parse(request.request, maxDepth: WireProtocol.maxDepth),
                case .success(let decoded) = RequestDecoder().decode(envelope)
            else {
                let text = "the deadline passed while no master ran; the agent may have received the request"
                let outcome = ControlMessage.error(id: request.requestID, code: "timeout", message: text, sent: true)
                _ = try store.finish(
                    agentID: request.agentID,
                    requestID: request.requestID,
                    outcome: ControlMessage.frame(outcome),
                    at: wallNow
                )
                continue
            }
            _ = tracker.submit(
                key: key,
                type: decoded.type,
                frame: Messages.frame(.object(envelope)),
                fingerprint: decoded.fingerprint,
                deadline: now + left,
                now: now,
                connected: false
            )
            keeper.durable[key] = request.origin
            if request.origin != .submit {
                keeper.started(request.requestID, agentID: key.agentID, byLoop: false, body: decoded.body)
            }
            logger.info(
                "request from before the restart waits for its agent",
                metadata: ["request": "\(key)", "origin": "\(request.origin.rawValue)", "left_ms": "\(left)"]
            )
        }
        // Trimmed now, then every hour while the master runs (reconcileTick).
        keeper.nextTrimAt = now
    }

    /// A hello (`heartbeat` false) or heartbeat of `agentID` was taken into the fleet view.
    func reconcileObserved(_ agentID: String, heartbeat: Bool) {
        guard keeper != nil, let report = reportedState(agentID) else { return }
        keeper!.stored[agentID] = nil
        keeper!.dirty.insert(agentID)
        keeper!.observed(report, heartbeat: heartbeat, agentID: agentID)
    }

    /// What the agent reports now, or `nil` before it was heard since the master started.
    func reportedState(_ agentID: String) -> ReportedState? {
        let connected = isReachable(agentID)
        // Read in place: this runs for every heartbeat, and a copy of the record is a copy of its whole state.
        return fleet.withRecord(agentID) { record -> ReportedState? in
            guard record.state != nil else { return nil }
            let drifting =
                record.state?.drift?.missingBridges.isEmpty == false
                || record.state?.drift?.missingContainers.isEmpty == false
                || record.state?.drift?.stoppedContainers.isEmpty == false
            return ReportedState(
                connected: connected,
                topologyID: record.state?.topologyID,
                appliedVersionHash: record.state?.appliedVersionHash,
                drifting: drifting,
                busy: !record.running.isNull
            )
        } ?? nil
    }

    /// The timer's part: writes changed reports, decides for every managed agent, starts what is due within the cap.
    func reconcileTick() async {
        guard keeper != nil else { return }
        saveReports()
        trimRequestsIfDue()
        var busyAgents = Set<String>()
        for entry in tracker.entries.values where entry.type == .apply || entry.type == .teardown {
            busyAgents.insert(entry.key.agentID)
        }
        for agentID in keeper!.desired.keys.sorted() {
            guard let keeper else { return }
            let verdict = keeper.decision.decide(
                desired: keeper.target(agentID),
                reported: reportedState(agentID),
                history: keeper.history(agentID),
                appliedHere: keeper.appliedHere[agentID] ?? [],
                requestInFlight: busyAgents.contains(agentID),
                capacity: keeper.pushesInFlight < keeper.decision.settings.maxConcurrentPushes
            )
            self.keeper?.verdicts[agentID] = verdict
            if verdict == .inSync { self.keeper?.settled(agentID: agentID) }
            if verdict.startsRequest {
                busyAgents.insert(agentID)
                await startPush(agentID, verdict)
            }
        }
    }

    /// Starts the apply or teardown `verdict` asks for, with a new request id, recorded first.
    private func startPush(_ agentID: String, _ verdict: ReconcileKeeper.Decision.Verdict) async {
        guard let keeper, let record = keeper.desired[agentID] else { return }
        let requestID = "r-" + UUID().uuidString.lowercased()
        var request: JSONObject = ["proto": JSONValue(WireProtocol.version), "id": JSONValue(requestID)]
        var appliedTopology: String?
        var reason = ReconcileReason.teardownDue
        switch verdict {
        case .apply(let why, let supersede):
            guard let topology = record.topology,
                let hydrated = try? JSONParser.parse(topology.hydrated, maxDepth: WireProtocol.maxDepth)
            else { return }
            request["type"] = "apply"
            request["hydrated"] = hydrated
            request["version_hash"] = JSONValue(topology.versionHash)
            request["supersede"] = .bool(supersede)
            appliedTopology = topology.id
            reason = why
        case .teardown(let topologyID):
            request["type"] = "teardown"
            request["topology_id"] = JSONValue(topologyID)
        default:
            return
        }
        let key = RequestKey(agentID: agentID, requestID: requestID)
        let timeout = Self.milliseconds(keeper.decision.settings.pushTimeout)
        guard case .success(let decoded) = RequestDecoder().decode(request) else { return }
        let wallNow = wallClock()
        let stored = StoredRequest(
            agentID: agentID,
            requestID: requestID,
            type: decoded.type.rawValue,
            fingerprint: decoded.fingerprint,
            request: Messages.frame(.object(request)),
            origin: .reconcile,
            createdAt: wallNow,
            deadlineAt: wallNow + timeout
        )
        self.keeper!.started(requestID, agentID: agentID, body: decoded.body)
        do {
            try keeper.store?.recordRequest(stored, appliedTopologyID: appliedTopology)
        } catch {
            self.keeper!.storeFailures += 1
            logger.error(
                "cannot record a reconcile push; not sent",
                metadata: ["agent": "\(agentID)", "error": "\(error)"]
            )
            self.keeper!.finished(requestID, agentID: agentID, error: "[store_failed] \(error.message)")
            return
        }
        if let appliedTopology { self.keeper!.appliedHere[agentID, default: []].insert(appliedTopology) }
        self.keeper!.durable[key] = .reconcile
        self.keeper!.verdicts[agentID] = .pushing(requestID: requestID)
        metrics.reconcilePushes[reason]?.increment()
        logger.notice(
            "reconcile: pushing",
            metadata: [
                "agent": "\(agentID)", "id": "\(requestID)", "type": "\(decoded.type.rawValue)",
                "reason": "\(reason.rawValue)", "attempt": "\(self.keeper!.history(agentID).attempts)",
            ]
        )
        nextLocalID += 1
        // Nobody reads this stream: the outcome reaches the loop through `durableFinished`.
        let (_, continuation) = AsyncStream.makeStream(of: RequestEvent.self)
        let outcome = await submit(
            agentID: agentID,
            request: request,
            timeoutMillis: timeout,
            subscriber: .local(id: nextLocalID, continuation)
        )
        if case .failure(let error) = outcome {
            await durableFinished(
                key,
                controlMessage: ControlMessage.error(id: requestID, code: error.code.rawValue, message: error.message)
            )
        }
    }

    /// Records a new apply or teardown that nobody recorded before it was submitted (a plain `submit`).
    func noteSubmitted(_ key: RequestKey, request: JSONObject, decoded: Request, deadline: Int64) {
        guard keeper != nil, keeper!.durable[key] == nil, decoded.type == .apply || decoded.type == .teardown else {
            return
        }
        var topologyID: String?
        if case .apply(let apply) = decoded.body { topologyID = apply.hydrated["topology"]?["id"]?.stringValue }
        let wallNow = wallClock()
        let stored = StoredRequest(
            agentID: key.agentID,
            requestID: key.requestID,
            type: decoded.type.rawValue,
            fingerprint: decoded.fingerprint,
            request: Messages.frame(.object(request)),
            origin: .submit,
            createdAt: wallNow,
            deadlineAt: wallNow + max(1, deadline - clock())
        )
        do {
            try keeper!.store?.recordRequest(stored, appliedTopologyID: topologyID)
        } catch {
            keeper!.storeFailures += 1
            logger.error("cannot record a request", metadata: ["request": "\(key)", "error": "\(error)"])
        }
        if let topologyID { keeper!.appliedHere[key.agentID, default: []].insert(topologyID) }
        keeper!.durable[key] = .submit
    }

    /// A request ended with `controlMessage` (the `answer` holding the result, or a `control_error`): writes the
    /// outcome and tells the loop. A master that stops (`shutdown`) writes nothing: the next one resumes it.
    func durableFinished(_ key: RequestKey, controlMessage: JSONValue) async {
        guard keeper != nil, let origin = keeper!.durable[key] else { return }
        let code = controlMessage["error"]?["code"]?.stringValue
        if code == "shutdown" { return }
        keeper!.durable[key] = nil
        do {
            try keeper!.store?.finish(
                agentID: key.agentID,
                requestID: key.requestID,
                outcome: ControlMessage.frame(controlMessage),
                at: wallClock()
            )
        } catch {
            keeper!.storeFailures += 1
            logger.error("cannot record a request's outcome", metadata: ["request": "\(key)", "error": "\(error)"])
        }
        guard origin != .submit else { return }
        var failure: String?
        if let code {
            failure = "[\(code)] \(controlMessage["error"]?["message"]?.stringValue ?? "")"
        } else if let result = controlMessage["message"], result["status"]?.intValue != 200 {
            let error = result["error"]
            failure = "[\(error?["code"]?.stringValue ?? "error")] \(error?["message"]?.stringValue ?? "")"
        }
        let current = reportedState(key.agentID)
        keeper!.finished(key.requestID, agentID: key.agentID, error: failure, current: current)
        if keeper!.verdicts[key.agentID] == .pushing(requestID: key.requestID) { keeper!.verdicts[key.agentID] = nil }
        fleetChanged = true
        if let failure {
            logger.warning(
                "reconcile: push failed; backing off",
                metadata: ["request": "\(key)", "error": "\(LogText.escaped(failure))"]
            )
        }
    }

    /// Writes the reported state of the agents that changed since the last tick, in one transaction.
    private func saveReports() {
        guard let store = keeper?.store, let dirty = keeper?.dirty, !dirty.isEmpty else { return }
        keeper!.dirty = []
        let now = clock()
        let wallNow = wallClock()
        var rows: [(agentID: String, seenAt: Int64, state: [UInt8]?)] = []
        for agentID in dirty {
            // Read in place: every heartbeating agent is looked at on every tick, and a record is large.
            guard
                let signature = fleet.withRecord(
                    agentID,
                    { record in
                        ReconcileKeeper.ReportSignature(
                            topologyID: record.topologyID,
                            appliedVersionHash: record.appliedVersionHash,
                            drift: record.driftCounts
                        )
                    }
                )
            else { continue }
            // A steady agent is written once per master start, not on every heartbeat.
            guard keeper!.savedSignature[agentID] != signature else { continue }
            keeper!.savedSignature[agentID] = signature
            guard let record = fleet[agentID] else { continue }
            let seenAt = wallNow - (now - (record.lastSeenAt ?? now))
            rows.append((agentID, seenAt, record.state?.encoded))
        }
        // In id order, as the store has always been written; sorted here, since a steady fleet has nothing to write.
        rows.sort { $0.agentID < $1.agentID }
        do {
            try store.saveReports(rows)
        } catch {
            keeper!.storeFailures += 1
            for row in rows { keeper!.savedSignature[row.agentID] = nil }
            logger.error("cannot record agents' states", metadata: ["error": "\(error)"])
        }
    }

    /// The `reconcile` member of an agent in the fleet view.
    func reconcileJSON(_ agentID: String) -> JSONValue {
        keeper?.reconcileJSON(agentID, now: clock())
            ?? ReconcileKeeper(store: nil, decision: .init(clock: MillisClock(clock))).reconcileJSON(agentID, now: 0)
    }
}
