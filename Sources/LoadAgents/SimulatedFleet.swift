import ZeroMQ

/// Many ``LoadAgent``s in one process, spread over a few shards. Each shard is a ZeroMQ context (one I/O thread)
/// with one ``SocketThread``: a context holds at most 1023 sockets (`ZMQ_MAX_SOCKETS`), and an agent needs six (the
/// DEALER and the heartbeat socket, each with libzmq's monitor pair and the pair reading it), so a shard carries
/// at most 170 agents.
final class SimulatedFleet: Sendable {
    struct Shard: Sendable {
        let context: ZMQContext
        let thread: SocketThread
    }

    let agents: [LoadAgent]
    let shards: [Shard]
    static let maxAgentsPerShard = 170

    private init(agents: [LoadAgent], shards: [Shard]) {
        self.agents = agents
        self.shards = shards
    }

    /// Creates the shards and opens every agent's sockets (they start dialling at once).
    static func open(
        keys: FleetKeys,
        link: LinkSettings,
        agentsPerShard: Int
    ) async throws(ZMQError)
        -> SimulatedFleet
    {
        precondition((1...maxAgentsPerShard).contains(agentsPerShard), "a context holds at most 170 simulated agents")
        let groups = stride(from: 0, to: keys.agents.count, by: agentsPerShard).map {
            Array(keys.agents[$0..<min($0 + agentsPerShard, keys.agents.count)])
        }
        var shards: [Shard] = []
        do {
            for index in groups.indices {
                let context = try ZMQContext()
                let thread = try SocketThread(context: context, name: "load-\(index)")
                shards.append(Shard(context: context, thread: thread))
            }
        } catch {
            await close(shards)
            throw error
        }
        let opened = await withTaskGroup(of: (Int, Result<[LoadAgent], ZMQError>).self) { group in
            for (index, members) in groups.enumerated() {
                let thread = shards[index].thread
                group.addTask {
                    var agents: [LoadAgent] = []
                    for member in members {
                        do throws(ZMQError) {
                            agents.append(
                                try await LoadAgent.open(on: thread, id: member.id, keys: member.keys, link: link)
                            )
                        } catch {
                            return (index, .failure(error))
                        }
                    }
                    return (index, .success(agents))
                }
            }
            var results: [Int: Result<[LoadAgent], ZMQError>] = [:]
            for await (index, result) in group { results[index] = result }
            return groups.indices.map { results[$0]! }
        }
        var agents: [LoadAgent] = []
        for result in opened {
            switch result {
            case .success(let members): agents += members
            case .failure(let error):
                await close(shards)
                throw error
            }
        }
        return SimulatedFleet(agents: agents, shards: shards)
    }

    /// Follows every agent's sockets until they close.
    func run(clock: FleetClock) async {
        await withTaskGroup(of: Void.self) { group in
            for agent in agents { group.addTask { await agent.run(clock: clock) } }
        }
    }

    /// How many agents are connected and subscribed.
    var readyCount: Int { agents.reduce(0) { $0 + ($1.isReady ? 1 : 0) } }

    /// Publishes one heartbeat per agent every `intervalMillis`, agents evenly staggered across the interval, until
    /// cancelled. A late wake-up sends what fell due (nothing is skipped); `lag` records the worst lateness.
    func publishHeartbeats(intervalMillis: Int, clock: FleetClock, lag: LagMeter) async {
        let count = agents.count
        let start = clock.millis()
        var event = 0
        while !Task.isCancelled {
            let now = clock.millis()
            while true {
                let round = event / count
                let index = event % count
                let due = start + Int64(round * intervalMillis) + Int64(index * intervalMillis / count)
                if due > now { break }
                lag.record(now - due)
                agents[index].heartbeat(intervalMillis: intervalMillis)
                event += 1
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Closes every socket and context.
    func close() async {
        await Self.close(shards)
    }

    private static func close(_ shards: [Shard]) async {
        for shard in shards { await shard.thread.shutdown() }
        for shard in shards { await shard.context.terminateOffPool() }
    }
}
