import Master
import TestSupport
import Testing

/// The pure reconcile decision (docs/control-channel.md#reconcile) on an injected clock: every row of the table,
/// the waits, the back-off, drift counting, and that a steady agent is never pushed.
@Suite("Reconcile decision")
struct ReconcileDecisionTests {
    typealias Decision = ReconcileDecision<ManualClock>
    typealias Verdict = ReconcileVerdict<ManualClock.Instant>

    static let hashT = String(repeating: "a", count: 64)
    static let hashOther = String(repeating: "b", count: 64)
    static let desiredT = DesiredTarget.topology(id: "t", versionHash: hashT)

    static func report(
        _ topology: String? = nil,
        _ hash: String? = nil,
        connected: Bool = true,
        drifting: Bool = false,
        busy: Bool = false
    ) -> ReportedState {
        ReportedState(
            connected: connected,
            topologyID: topology,
            appliedVersionHash: hash,
            drifting: drifting,
            busy: busy
        )
    }

    func decision(_ time: ManualClock, driftHeartbeats: Int = 3) -> Decision {
        var settings = ReconcileSettings()
        settings.driftHeartbeats = driftHeartbeats
        settings.backoff = .seconds(5)
        settings.backoffMax = .seconds(60)
        return Decision(clock: time, settings: settings)
    }

    /// Every combination of desired state and report, with nothing else in the way.
    @Test(
        arguments: [
            (nil, report("t", hashT), Verdict.unmanaged),
            (nil, report(), .unmanaged),
            (desiredT, report("t", hashT), .inSync),
            (desiredT, report(), .apply(.nothingApplied, supersede: false)),
            (desiredT, report("t", hashOther), .apply(.hashMismatch, supersede: false)),
            (desiredT, report("t", nil), .apply(.hashMismatch, supersede: false)),
            (desiredT, report("ours", hashOther), .apply(.hashMismatch, supersede: true)),
            (desiredT, report("foreign", hashOther), .wait(.foreignTopology)),
            (desiredT, report("t", hashT, drifting: true), .wait(.drift)),
            (DesiredTarget.none, report(), .inSync),
            (DesiredTarget.none, report("t", hashT), .teardown(topologyID: "t")),
            (DesiredTarget.none, report("ours", hashT), .teardown(topologyID: "ours")),
            (DesiredTarget.none, report("foreign", hashT), .wait(.foreignTopology)),
        ] as [(DesiredTarget?, ReportedState, Verdict)]
    )
    func table(desired: DesiredTarget?, reported: ReportedState, expected: Verdict) {
        let time = ManualClock()
        let verdict = decision(time).decide(
            desired: desired,
            reported: reported,
            history: .init(),
            appliedHere: ["t", "ours"],
            requestInFlight: false,
            capacity: true
        )
        #expect(verdict == expected)
    }

    /// What makes a due push wait, in the order the decision checks it.
    @Test func waitsForConnectionBusyAgentRequestsBackoffAndCapacity() {
        let time = ManualClock()
        let decision = decision(time)
        let due = Self.report()
        func decide(
            _ reported: ReportedState? = due,
            history: Decision.History = .init(),
            inFlight: Bool = false,
            capacity: Bool = true
        ) -> Verdict {
            decision.decide(
                desired: Self.desiredT,
                reported: reported,
                history: history,
                appliedHere: [],
                requestInFlight: inFlight,
                capacity: capacity
            )
        }
        #expect(decide() == .apply(.nothingApplied, supersede: false))
        #expect(decide(nil) == .wait(.disconnected))
        #expect(decide(Self.report(connected: false)) == .wait(.disconnected))
        #expect(decide(Self.report(busy: true)) == .wait(.agentBusy))
        #expect(decide(inFlight: true) == .wait(.requestInFlight))
        #expect(decide(capacity: false) == .wait(.concurrencyCap))
        var paused = Decision.History()
        paused.paused = true
        #expect(decide(history: paused) == .paused)
        var pushing = Decision.History()
        decision.started("r-1", history: &pushing)
        #expect(decide(history: pushing) == .pushing(requestID: "r-1"))
        var failed = pushing
        decision.finished("r-1", error: "[conflict] other", history: &failed)
        #expect(decide(history: failed) == .backingOff(.nothingApplied, until: time.now.advanced(by: .seconds(5))))
        // In sync needs no connection, capacity or back-off: nothing is sent.
        let inSync = decision.decide(
            desired: Self.desiredT,
            reported: Self.report("t", Self.hashT, connected: false),
            history: failed,
            appliedHere: [],
            requestInFlight: true,
            capacity: false
        )
        #expect(inSync == .inSync)
    }

    @Test func backoffDoublesUpToItsCap() {
        var settings = ReconcileSettings()
        settings.backoff = .seconds(5)
        settings.backoffMax = .seconds(60)
        #expect(settings.backoff(after: 0) == .zero)
        #expect((1...7).map { settings.backoff(after: $0) } == [5, 10, 20, 40, 60, 60, 60].map { .seconds($0) })
        #expect(settings.backoff(after: 1_000_000) == .seconds(60))
    }

    /// A push that keeps failing is retried ever more slowly, never in a loop; the error stays visible.
    @Test func repeatedFailuresBackOff() {
        let time = ManualClock()
        let decision = decision(time)
        var history = Decision.History()
        var pushes: [Int64] = []
        let start = time.milliseconds
        // Ten minutes of 200 ms ticks against an agent whose apply always fails.
        for tick in 0..<3_000 {
            let verdict = decision.decide(
                desired: Self.desiredT,
                reported: Self.report(),
                history: history,
                appliedHere: [],
                requestInFlight: false,
                capacity: true
            )
            if verdict.startsRequest {
                pushes.append(time.milliseconds - start)
                decision.started("r-\(tick)", history: &history)
                decision.finished("r-\(tick)", error: "[invalid_topology] bad", history: &history)
                #expect(history.lastError == "[invalid_topology] bad")
            }
            time.advance(by: .milliseconds(200))
        }
        let gaps = zip(pushes.dropFirst(), pushes).map { $0 - $1 }
        #expect(pushes.first == 0)
        #expect(gaps.prefix(5) == [5_000, 10_000, 20_000, 40_000, 60_000])
        #expect(gaps.dropFirst(4).allSatisfy { $0 == 60_000 })
        #expect(pushes.count == 13)  // 0, 5, 15, 35, 75, 135 s, then every 60 s up to 555 s
        #expect(history.attempts == pushes.count)
    }

    /// A push that succeeds but does not bring the agent in sync counts as an attempt too; seeing it in sync resets.
    @Test func successWithoutConvergenceBacksOffAndSyncResets() {
        let time = ManualClock()
        let decision = decision(time)
        var history = Decision.History()
        decision.started("r-1", history: &history)
        decision.finished("r-1", error: nil, history: &history)
        let stale = decision.decide(
            desired: Self.desiredT,
            reported: Self.report(),
            history: history,
            appliedHere: [],
            requestInFlight: false,
            capacity: true
        )
        #expect(stale == .backingOff(.nothingApplied, until: time.now.advanced(by: .seconds(5))))
        decision.observed(Self.report("t", Self.hashT), heartbeat: true, desired: Self.desiredT, history: &history)
        #expect(history.attempts == 0 && history.retryAt == nil && history.lastError == nil)
        #expect(history.pushes == 1)
    }

    /// Drift is re-applied only after more than `driftHeartbeats` consecutive heartbeats; hellos do not count, and
    /// one clean heartbeat starts the count again.
    @Test func driftNeedsConsecutiveHeartbeats() {
        let time = ManualClock()
        let decision = decision(time, driftHeartbeats: 3)
        var history = Decision.History()
        let drifting = Self.report("t", Self.hashT, drifting: true)
        func verdict() -> Verdict {
            decision.decide(
                desired: Self.desiredT,
                reported: drifting,
                history: history,
                appliedHere: ["t"],
                requestInFlight: false,
                capacity: true
            )
        }
        decision.observed(drifting, heartbeat: false, desired: Self.desiredT, history: &history)
        #expect(history.driftHeartbeats == 0)
        for _ in 0..<3 {
            decision.observed(drifting, heartbeat: true, desired: Self.desiredT, history: &history)
            #expect(verdict() == .wait(.drift))
        }
        decision.observed(Self.report("t", Self.hashT), heartbeat: true, desired: Self.desiredT, history: &history)
        #expect(history.driftHeartbeats == 0)
        for _ in 0..<4 { decision.observed(drifting, heartbeat: true, desired: Self.desiredT, history: &history) }
        #expect(verdict() == .apply(.drift, supersede: false))
        decision.started("r-1", history: &history)
        #expect(history.driftHeartbeats == 0)
    }

    /// A steady fleet: a thousand agents in sync, an hour of heartbeats and ticks, not one push.
    @Test func steadyFleetCausesNoPush() {
        let time = ManualClock()
        let decision = decision(time)
        var histories = [Decision.History](repeating: .init(), count: 1_000)
        var pushes = 0
        let inSync = Self.report("t", Self.hashT)
        for _ in 0..<360 {  // one heartbeat every 10 s for an hour
            for index in histories.indices {
                decision.observed(inSync, heartbeat: true, desired: Self.desiredT, history: &histories[index])
                let verdict = decision.decide(
                    desired: Self.desiredT,
                    reported: inSync,
                    history: histories[index],
                    appliedHere: ["t"],
                    requestInFlight: false,
                    capacity: true
                )
                if verdict.startsRequest { pushes += 1 }
                #expect(verdict == .inSync)
            }
            time.advance(by: .milliseconds(10_000))
        }
        #expect(pushes == 0)
    }

    /// After a successful push, reports that do not show it yet are taken as sent before it (a master behind on its
    /// heartbeats) until one shows it, or the settle time passes; after that, a report that differs is believed.
    @Test func aSuccessWaitsForAReportThatShowsIt() {
        let time = ManualClock()
        let decision = decision(time)
        var history = Decision.History()
        func verdict(_ reported: ReportedState) -> Verdict {
            decision.decide(
                desired: Self.desiredT,
                reported: reported,
                history: history,
                appliedHere: ["t"],
                requestInFlight: false,
                capacity: true
            )
        }
        decision.started("r-1", history: &history)
        decision.finished(
            "r-1",
            error: nil,
            expecting: .applied(topologyID: "t", versionHash: Self.hashT),
            history: &history
        )
        time.advance(by: .milliseconds(10_000))  // past the back-off, within the settle time
        decision.observed(Self.report(), heartbeat: true, desired: Self.desiredT, history: &history)
        #expect(verdict(Self.report()) == .wait(.awaitingReport))
        time.advance(by: .milliseconds(25_000))  // past the settle time: believed
        #expect(verdict(Self.report()) == .apply(.nothingApplied, supersede: false))
        // A report showing the outcome ends the wait at once; a later loss is then believed at once.
        decision.started("r-2", history: &history)
        decision.finished(
            "r-2",
            error: nil,
            expecting: .applied(topologyID: "t", versionHash: Self.hashT),
            history: &history
        )
        decision.observed(Self.report("t", Self.hashT), heartbeat: true, desired: Self.desiredT, history: &history)
        #expect(history.expecting == nil && history.attempts == 0)
        decision.observed(Self.report(), heartbeat: true, desired: Self.desiredT, history: &history)
        #expect(verdict(Self.report()) == .apply(.nothingApplied, supersede: false))
        // A report that showed the outcome before the result came: nothing to wait for.
        decision.started("r-4", history: &history)
        decision.finished(
            "r-4",
            error: nil,
            expecting: .applied(topologyID: "t", versionHash: Self.hashT),
            current: Self.report("t", Self.hashT),
            history: &history
        )
        #expect(history.expecting == nil)
        // A failure expects nothing.
        decision.started("r-3", history: &history)
        decision.finished("r-3", error: "[busy] x", expecting: .gone(topologyID: "t"), history: &history)
        #expect(history.expecting == nil)
        #expect(ReconcileExpectation.gone(topologyID: "t").isMet(by: Self.report("u", Self.hashT)))
        #expect(!ReconcileExpectation.gone(topologyID: "t").isMet(by: Self.report("t", Self.hashT)))
    }

    @Test func pauseHoldsAndResumeResetsTheBackoff() {
        let time = ManualClock()
        let decision = decision(time)
        var history = Decision.History()
        decision.started("r-1", history: &history)
        decision.finished("r-1", error: "[busy] x", history: &history)
        decision.setPaused(true, history: &history)
        #expect(
            decision.decide(
                desired: Self.desiredT,
                reported: Self.report(),
                history: history,
                appliedHere: [],
                requestInFlight: false,
                capacity: true
            ) == .paused
        )
        decision.setPaused(false, history: &history)
        #expect(history.attempts == 0 && history.retryAt == nil)
        #expect(
            decision.decide(
                desired: Self.desiredT,
                reported: Self.report(),
                history: history,
                appliedHere: [],
                requestInFlight: false,
                capacity: true
            ) == .apply(.nothingApplied, supersede: false)
        )
    }
}
