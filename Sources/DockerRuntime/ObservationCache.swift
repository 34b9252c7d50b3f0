import DecnetJSON
import DockerEngine
import Topology

/// The labelled containers and networks as last seen, updated event by event between full lists.
///
/// A list and the event stream race: events that arrive while a list is in flight are applied at once and also
/// kept, then replayed over the list's result. Replaying an ordered run of events over a snapshot taken inside that
/// run ends in the state after the last event, so a slow list never undoes a newer event.
struct ObservationCache: Sendable {
    struct Container: Sendable, Equatable {
        var name: String
        var topologyID: String
        var running: Bool
    }

    struct Network: Sendable, Equatable {
        var name: String
        var topologyID: String
    }

    /// By Docker id.
    private(set) var containers: [String: Container] = [:] { didSet { memo = nil } }
    private(set) var networks: [String: Network] = [:] { didSet { memo = nil } }
    /// The last observation handed out, until the next change: `state` is asked far more often than Docker changes.
    private var memo: (topologyID: String?, observation: Observation)?
    private var listsInFlight = 0
    private var recorded: [DockerEvent] = []

    /// The container and network actions the observer subscribes to.
    static let containerActions = ["create", "start", "die", "stop", "destroy", "rename", "pause", "unpause"]
    static let networkActions = ["create", "destroy", "connect", "disconnect"]

    /// Call before starting a full list.
    mutating func beginList() {
        listsInFlight += 1
    }

    /// Replaces the cache with a list's result, then replays the events seen since the list began. Returns true
    /// when a replayed event needs yet another list.
    @discardableResult
    mutating func finishList(containers list: [DockerContainerSummary], networks networkList: [DockerNetwork]) -> Bool {
        var containers: [String: Container] = [:]
        for summary in list {
            guard let owner = summary.labels[RuntimeLabels.topologyID] else { continue }
            containers[summary.id] = Container(name: summary.name, topologyID: owner, running: summary.isRunning)
        }
        var networks: [String: Network] = [:]
        for network in networkList {
            guard let owner = network.labels[RuntimeLabels.topologyID] else { continue }
            networks[network.id] = Network(name: network.name, topologyID: owner)
        }
        self.containers = containers
        self.networks = networks
        var needsList = false
        for event in recorded { needsList = update(event) || needsList }
        endList()
        return needsList
    }

    /// Call when a list failed.
    mutating func endList() {
        listsInFlight = max(0, listsInFlight - 1)
        if listsInFlight == 0 { recorded = [] }
    }

    /// Applies one event. Returns true when only a full list can bring the cache up to date (a network was
    /// created: network events carry no labels, so whether it is ours is unknown).
    mutating func apply(_ event: DockerEvent) -> Bool {
        if listsInFlight > 0 { recorded.append(event) }
        return update(event)
    }

    private mutating func update(_ event: DockerEvent) -> Bool {
        let id = event.actorID
        switch event.type {
        case "container":
            // Container events carry the container's labels: anything without ours is someone else's.
            guard let owner = event.attributes[RuntimeLabels.topologyID] else { return false }
            let name = event.name ?? containers[id]?.name ?? ""
            switch event.action {
            case "create":
                containers[id] = Container(name: name, topologyID: owner, running: false)
            case "start", "unpause":
                containers[id] = Container(name: name, topologyID: owner, running: true)
            case "die", "stop", "pause":
                containers[id] = Container(name: name, topologyID: owner, running: false)
            case "destroy":
                containers[id] = nil
            case "rename":
                guard containers[id] != nil else { return true }
                containers[id]?.name = name
            default:
                break
            }
            return false
        case "network":
            switch event.action {
            case "create": return true
            case "destroy": networks[id] = nil
            default: break
            }
            return false
        default:
            return false
        }
    }

    /// `observation(topologyID:)`, computed once per change of the cache.
    mutating func cachedObservation(topologyID: String?) -> Observation {
        if let memo, memo.topologyID == topologyID { return memo.observation }
        let computed = observation(topologyID: topologyID)
        memo = (topologyID, computed)
        return computed
    }

    /// What runs for `topologyID` (every topology when nil), names in code-point order.
    func observation(topologyID: String?) -> Observation {
        let wanted = topologyID.map { JSONString($0) }
        func matches(_ owner: String) -> Bool { wanted.map { JSONString(owner) == $0 } ?? true }
        let bridges = networks.values.filter { matches($0.topologyID) }.map(\.name)
            .sorted { JSONString($0) < JSONString($1) }
        let containers = containers.values.filter { matches($0.topologyID) && !$0.name.isEmpty }
            .map { Observation.Container(name: $0.name, running: $0.running) }
            .sorted { JSONString($0.name) < JSONString($1.name) }
        return Observation(bridges: bridges, containers: containers)
    }
}
