import DecnetJSON
import Testing

/// Fault tests with real processes (master and agent killed, a full or read-only state directory, duplicate and
/// reordered requests): `decnet-master serve` and `decnet-agent run` as children of the test, on loopback with fresh
/// CURVE keys, against the real dockerd. One test at a time: they create containers on a 2-core machine shared with
/// other Docker tests, and they kill processes on purpose. Results are written up in docs/reliability.md#fault-tests
/// (and the sections it links); lines starting `FAULT-MEASURE` carry the numbers.
@Suite("Fault tests with real processes", .serialized, .faultsNeedDocker)
struct FaultTests {}

extension Trait where Self == ConditionTrait {
    /// Runs the fault tests only when dockerd answers with the local test image (scripts/docker-test-env.sh).
    static var faultsNeedDocker: Self {
        .enabled("needs dockerd and decnet-test/busybox:latest: run scripts/docker-test-env.sh") { DockerProbe.ready }
    }
}

/// Prints one measured number for the write-up (`swift test ... | grep FAULT-MEASURE`).
func measure(_ name: String, _ value: CustomStringConvertible) {
    print("FAULT-MEASURE \(name) = \(value)")
}

/// The four drift lists of a state object.
struct DriftLists: Equatable, CustomStringConvertible {
    var missingBridges: Set<String>
    var missingContainers: Set<String>
    var stoppedContainers: Set<String>
    var unexpectedContainers: Set<String>

    init(_ state: JSONValue) {
        let drift = state["drift"]
        missingBridges = drift?["missing_bridges"]?.stringSet ?? ["<no drift>"]
        missingContainers = drift?["missing_containers"]?.stringSet ?? ["<no drift>"]
        stoppedContainers = drift?["stopped_containers"]?.stringSet ?? ["<no drift>"]
        unexpectedContainers = drift?["unexpected_containers"]?.stringSet ?? ["<no drift>"]
    }

    var isEmpty: Bool {
        missingBridges.isEmpty && missingContainers.isEmpty && stoppedContainers.isEmpty
            && unexpectedContainers.isEmpty
    }

    var description: String {
        "missing bridges \(missingBridges.sorted()), missing \(missingContainers.sorted()), stopped "
            + "\(stoppedContainers.sorted()), unexpected \(unexpectedContainers.sorted())"
    }
}
