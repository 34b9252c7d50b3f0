import AgentProtocol
import DecnetJSON
import DockerEngine
import Foundation
import Synchronization
import TestSupport
import Testing

extension Trait where Self == ConditionTrait {
    /// Runs the tests only when a private `dockerd` can be started here; otherwise they are skipped with the reason
    /// (printed by the probe).
    static var privateDockerd: Self {
        .enabled("a private dockerd cannot be started here (needs root, dockerd and the docker CLI; see stderr)") {
            await DaemonProbe.shared.canStart()
        }
    }
}

/// Starts and stops one throw-away private daemon, once per test process, to learn whether the tests can run.
actor DaemonProbe {
    static let shared = DaemonProbe()
    private var answer: Bool?

    func canStart() async -> Bool {
        if let answer { return answer }
        let result = await probe()
        answer = result
        return result
    }

    private func probe() async -> Bool {
        guard geteuid() == 0 else { return skip("the tests are not running as root, which dockerd needs") }
        guard PrivateDockerDaemon.dockerd != nil else { return skip("no dockerd executable is installed") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else {
            return skip("no /usr/bin/unshare (util-linux) to give the daemon a network namespace of its own")
        }
        do {
            let daemon = try PrivateDockerDaemon()
            do {
                try await daemon.start()
            } catch {
                await daemon.destroy()
                return skip("\(error)")
            }
            await daemon.destroy()
            return true
        } catch {
            return skip("cannot prepare a folder for it: \(error)")
        }
    }

    private func skip(_ reason: String) -> Bool {
        let line = "DockerOutageIntegrationTests skipped: a private dockerd cannot start: \(reason)\n"
        FileHandle.standardError.write(Data(line.utf8))
        return false
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

/// The state object as the agent encodes it, decoded (it must decode); every call must answer within two seconds,
/// daemon up or down.
func checkedState(_ f: OutageFixture) async throws -> AgentState {
    let (state, elapsed) = await f.timedState()
    #expect(elapsed < .seconds(2), "state took \(elapsed)")
    return try AgentState(state)
}

/// The state object the operations encode now, decoded.
func currentState(_ f: OutageFixture) async throws -> AgentState {
    try AgentState(await f.operations.state())
}

/// Whether the observer follows the daemon again and `state` reports no error.
func observerRecovered(_ f: OutageFixture) async throws -> Bool {
    guard f.runtime.observer.isCurrent else { return false }
    return try await checkedState(f).observed.error == nil
}

/// What `state` must say of Docker: its `observed` and `drift`.
struct DockerTruth: Equatable, CustomStringConvertible {
    var observed: AgentState.Observed
    var drift: AgentState.Drift

    func matches(_ state: AgentState) -> Bool { state.observed == observed && state.drift == drift }

    var description: String { AgentState(observed: observed, drift: drift).jsonValue.jsonText }
}

/// What `state` must say given what the daemon lists: `observed` = the labelled bridges and running containers,
/// `drift` computed against the plan's names (`applied`) or, with nothing applied, everything unexpected.
func truthfulState(_ f: OutageFixture, _ topology: OutageTopology, applied: Bool) async throws -> DockerTruth {
    let listed = try await f.listed(topology.id)
    let networks = try await f.networks(topology.id)
    let plan = applied ? topology.containerNames : []
    let planBridges: Set<String> = applied ? [topology.networkName] : []
    func names(_ set: Set<String>) -> [String] { set.sorted { JSONString($0) < JSONString($1) } }
    return DockerTruth(
        observed: .objects(bridges: names(networks), containers: names(listed.running)),
        drift: AgentState.Drift(
            missingBridges: names(planBridges.subtracting(networks)),
            missingContainers: names(plan.subtracting(listed.all)),
            stoppedContainers: names(plan.intersection(listed.all).subtracting(listed.running)),
            unexpectedContainers: names(listed.all.subtracting(plan))
        )
    )
}

/// Checks (allowing the observer 15 s to catch up with Docker's events) that `state` tells the truth, and with
/// `driftFree` that there is no drift at all.
func expectTruthfulState(
    _ f: OutageFixture,
    _ topology: OutageTopology,
    applied: Bool,
    driftFree: Bool = false,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    var last: (state: AgentState, truth: DockerTruth)?
    let agreed = try await eventually(within: 15) {
        let state = try await checkedState(f)
        let truth = try await truthfulState(f, topology, applied: applied)
        last = (state, truth)
        return truth.matches(state)
    }
    let (state, truth) = try #require(last, sourceLocation: sourceLocation)
    #expect(
        agreed,
        "state \(state.jsonValue.jsonText) differs from the daemon's \(truth)",
        sourceLocation: sourceLocation
    )
    if driftFree {
        #expect(
            state.drift == AgentState.Drift(),
            "drift \(String(describing: state.drift))",
            sourceLocation: sourceLocation
        )
    }
    #expect(
        applied ? state.topologyID == topology.id : state.appliedVersionHash == nil,
        sourceLocation: sourceLocation
    )
}

/// The error of an operation the stopped daemon interrupted in `phase`. One container at a time, the next call
/// meets a daemon that is gone: `docker_unavailable`, naming the socket. With more, calls already on open
/// connections can meet the stopping daemon's own errors first (`runtime_error` with `details.docker`).
func expectInterrupted(
    _ failure: AgentError,
    phase: String,
    concurrency: Int,
    socketPath: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    if concurrency == 1 {
        #expect(
            failure.code == .dockerUnavailable && failure.status == 503,
            "\(failure)",
            sourceLocation: sourceLocation
        )
        #expect(failure.message.contains(socketPath), "\(failure)", sourceLocation: sourceLocation)
    } else if failure.code == .runtimeError {
        #expect(
            failure.status == 500 && failure.details["docker"]?.stringValue?.isEmpty == false,
            "\(failure)",
            sourceLocation: sourceLocation
        )
    } else {
        #expect(
            failure.code == .dockerUnavailable && failure.status == 503,
            "\(failure)",
            sourceLocation: sourceLocation
        )
    }
    #expect(failure.details["phase"] == .string(JSONString(phase)), "\(failure)", sourceLocation: sourceLocation)
}
