import DecnetJSON
import DockerEngine
import Testing
import Topology

@testable import DockerRuntime

/// The observer's cache: events applied one by one, and replayed over a list that raced them.
@Suite struct ObservationCacheTests {
    static func event(
        _ type: String,
        _ action: String,
        id: String,
        name: String,
        topology: String? = "t1"
    ) throws
        -> DockerEvent
    {
        var attributes: JSONObject = ["name": JSONValue(name)]
        if let topology { attributes["decnet.topology.id"] = JSONValue(topology) }
        return try DockerEvent(json: [
            "Type": JSONValue(type), "Action": JSONValue(action),
            "Actor": ["ID": JSONValue(id), "Attributes": .object(attributes)], "timeNano": 1,
        ])
    }

    static func summary(
        _ id: String,
        _ name: String,
        state: String,
        topology: String = "t1"
    ) throws
        -> DockerContainerSummary
    {
        try DockerContainerSummary(json: [
            "Id": JSONValue(id), "Names": [JSONValue("/" + name)], "State": JSONValue(state),
            "Labels": ["decnet.topology.id": JSONValue(topology)],
        ])
    }

    static func network(_ id: String, _ name: String, topology: String = "t1") throws -> DockerNetwork {
        try DockerNetwork(json: [
            "Id": JSONValue(id), "Name": JSONValue(name), "Driver": "bridge",
            "Labels": ["decnet.topology.id": JSONValue(topology)],
        ])
    }

    @Test func eventsMoveContainersThroughTheirLives() throws {
        var cache = ObservationCache()
        #expect(!cache.apply(try Self.event("container", "create", id: "c1", name: "gw")))
        #expect(cache.observation(topologyID: "t1").containers == [.init(name: "gw", running: false)])
        _ = cache.apply(try Self.event("container", "start", id: "c1", name: "gw"))
        #expect(cache.observation(topologyID: "t1").containers == [.init(name: "gw", running: true)])
        _ = cache.apply(try Self.event("container", "die", id: "c1", name: "gw"))
        #expect(cache.observation(topologyID: "t1").containers == [.init(name: "gw", running: false)])
        _ = cache.apply(try Self.event("container", "start", id: "c1", name: "gw"))
        _ = cache.apply(try Self.event("container", "rename", id: "c1", name: "gw2"))
        #expect(cache.observation(topologyID: "t1").containers == [.init(name: "gw2", running: true)])
        _ = cache.apply(try Self.event("container", "destroy", id: "c1", name: "gw2"))
        #expect(cache.observation(topologyID: "t1").containers.isEmpty)
        // A rename of a container the cache never saw can only be settled by a list.
        #expect(cache.apply(try Self.event("container", "rename", id: "c9", name: "x")))
    }

    @Test func containersWithoutOurLabelAreIgnored() throws {
        var cache = ObservationCache()
        _ = cache.apply(try Self.event("container", "start", id: "f1", name: "foreign", topology: nil))
        #expect(cache.observation(topologyID: nil).containers.isEmpty)
    }

    @Test func networkCreatesNeedAListBecauseTheirEventsCarryNoLabels() throws {
        var cache = ObservationCache()
        cache.beginList()
        cache.finishList(
            containers: [],
            networks: [try Self.network("n1", "net_a"), try Self.network("n2", "net_b", topology: "t2")]
        )
        #expect(cache.observation(topologyID: "t1").bridges == ["net_a"])
        #expect(cache.observation(topologyID: nil).bridges == ["net_a", "net_b"])
        #expect(cache.apply(try Self.event("network", "create", id: "n3", name: "net_c", topology: nil)))
        #expect(!cache.apply(try Self.event("network", "destroy", id: "n1", name: "net_a", topology: nil)))
        #expect(cache.observation(topologyID: "t1").bridges.isEmpty)
        #expect(!cache.apply(try Self.event("network", "connect", id: "n2", name: "net_b", topology: nil)))
    }

    @Test func eventsDuringAListAreReplayedOverItsResult() throws {
        var cache = ObservationCache()
        cache.beginList()
        // While the list is in flight the container dies, then a new one is created and started.
        _ = cache.apply(try Self.event("container", "die", id: "c1", name: "gw"))
        _ = cache.apply(try Self.event("container", "create", id: "c2", name: "svc"))
        _ = cache.apply(try Self.event("container", "start", id: "c2", name: "svc"))
        // The list was taken before those events: it still sees c1 running and no c2.
        cache.finishList(containers: [try Self.summary("c1", "gw", state: "running")], networks: [])
        #expect(
            cache.observation(topologyID: "t1").containers == [
                .init(name: "gw", running: false), .init(name: "svc", running: true),
            ]
        )
        // Once no list is in flight, events are no longer recorded for replay.
        _ = cache.apply(try Self.event("container", "stop", id: "c2", name: "svc"))
        cache.beginList()
        cache.finishList(containers: [try Self.summary("c2", "svc", state: "running")], networks: [])
        #expect(cache.observation(topologyID: "t1").containers == [.init(name: "svc", running: true)])
    }

    @Test func observationsAreFilteredAndSortedByCodePoints() throws {
        var cache = ObservationCache()
        cache.beginList()
        cache.finishList(
            containers: [
                try Self.summary("a", "b-svc", state: "running"), try Self.summary("b", "B-base", state: "exited"),
                try Self.summary("c", "other", state: "running", topology: "t2"),
            ],
            networks: []
        )
        #expect(cache.observation(topologyID: "t1").containers.map(\.name) == ["B-base", "b-svc"])
        #expect(cache.observation(topologyID: "t2").containers == [.init(name: "other", running: true)])
        #expect(cache.observation(topologyID: "t3") == Observation())
    }
}
