import Synchronization
import Topology

/// What one materialise call did so far: the objects it created (to undo a failed first apply) and the report's
/// lists. Shared by the concurrent container tasks of that call.
final class MaterialiseLedger: Sendable {
    struct Created: Sendable, Equatable {
        var name: String
        var id: String
    }

    private struct State {
        var networks: [Created] = []
        var containers: [Created] = []
        var createdNames: [String] = []
        var recreatedNames: [String] = []
        var unchangedNames: [String] = []
        var containersDone = 0
    }

    private let state = Mutex(State())

    func networkCreated(_ name: String, id: String) {
        state.withLock { $0.networks.append(Created(name: name, id: id)) }
    }

    /// Records a container made by this call, as soon as Docker answered the create.
    func containerCreated(_ name: String, id: String) {
        state.withLock { $0.containers.append(Created(name: name, id: id)) }
    }

    /// Records how a planned container ended up and returns how many are settled now (for progress).
    func settled(_ name: String, _ action: ContainerAction, existedBefore: Bool) -> Int {
        state.withLock { s in
            switch action {
            case .keep, .start, .restart: s.unchangedNames.append(name)
            case .create where !existedBefore: s.createdNames.append(name)
            case .create, .recreate: s.recreatedNames.append(name)
            }
            s.containersDone += 1
            return s.containersDone
        }
    }

    /// Containers and networks created by this call, newest first: the order to remove them in.
    var createdObjects: (containers: [Created], networks: [Created]) {
        state.withLock { (Array($0.containers.reversed()), Array($0.networks.reversed())) }
    }

    var report: MaterialiseReport {
        state.withLock { s in
            MaterialiseReport(
                createdContainers: s.createdNames,
                recreatedContainers: s.recreatedNames,
                unchangedContainers: s.unchangedNames,
                createdBridges: s.networks.map(\.name)
            )
        }
    }
}
