import Foundation

/// The container events of one topology, recorded live by a `docker events` child process from the moment the log
/// is made. (Asking `docker events --since` afterwards is not enough: dockerd replays only its last 256 events,
/// and other people's tests on the same daemon push older ones out.)
///
/// The child follows every container event and the log keeps the topology's, so ``sync()`` can mark the stream with
/// an unlabelled container that no agent observes: once the mark is in, every earlier event is too.
struct DockerEventLog: Sendable {
    struct Event: Sendable {
        /// Unix time in milliseconds.
        var at: Int64
        var action: String
        var name: String
    }

    let process: ChildProcess
    let topologyID: String

    /// Starts recording the container events labelled with `topologyID` (replaying the last second, so nothing
    /// falls between the start of the process and its subscription).
    static func start(_ topologyID: String, world: FaultWorld) throws -> DockerEventLog {
        guard let docker = DockerProbe.docker else { throw FaultTestError("the docker CLI is not installed") }
        let since = unixMillis() - 1000
        let process = try ChildProcess(
            name: "docker-events",
            executable: docker,
            arguments: [
                "events", "--since", String(format: "%lld.%03lld", since / 1000, since % 1000), "--filter",
                "type=container", "--format",
                "{{.TimeNano}}\t{{.Action}}\t{{.Actor.Attributes.name}}\t"
                    + "{{index .Actor.Attributes \"\(DockerProbe.topologyLabel)\"}}",
            ],
            logDirectory: world.root
        )
        world.adopt(process)
        return DockerEventLog(process: process, topologyID: topologyID)
    }

    /// Returns once every container event Docker published before the call is in the log: it creates an unlabelled
    /// marker container (nobody's topology), waits for its `create` event, and removes it.
    func sync() async throws {
        let marker = "decnet-eventlog-mark-\(UUID().uuidString.prefix(12).lowercased())"
        try DockerProbe.run(["create", "--name", marker, DockerProbe.busyboxImage, "true"])
        defer { _ = try? DockerProbe.run(["rm", "-f", marker]) }
        try await eventually("the event log to show its marker \(marker)", within: 30) {
            process.stdout.contains("\tcreate\t\(marker)\t")
        }
    }

    /// Everything recorded so far (at or after `sinceMillis`), in order.
    func events(sinceMillis: Int64 = 0) -> [Event] {
        process.stdout.split(separator: "\n").compactMap { line -> Event? in
            let parts = line.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 4, parts[3] == topologyID, let nanos = Int64(parts[0]) else { return nil }
            let event = Event(at: nanos / 1_000_000, action: parts[1], name: parts[2])
            return event.at >= sinceMillis ? event : nil
        }
    }

    /// How many `create` events each container name had.
    func creations() -> [String: Int] {
        var counts: [String: Int] = [:]
        for event in events() where event.action == "create" { counts[event.name, default: 0] += 1 }
        return counts
    }

    /// `action name` lines of the events at or after `sinceMillis`, for messages.
    func summary(sinceMillis: Int64) -> [String] { events(sinceMillis: sinceMillis).map { "\($0.action) \($0.name)" } }
}
