import DecnetJSON
import Logging
import ServiceLifecycle

extension MasterServer {
    /// Sends a wire request (`apply`, `teardown`, `state` or `ping` envelope, with its `id`) to an agent and returns
    /// its answers as they come: `submitted`, then the agent's `accepted`/`progress`, then its `result`, or a
    /// failure when `timeout` passes first. Waits for the agent to connect when it is not; re-sends the same id
    /// when the agent reconnects or stays quiet. Throws when the request is malformed.
    public func submit(
        agentID: String,
        request: JSONValue,
        timeout: Duration
    ) async throws(MasterError) -> AsyncStream<RequestEvent> {
        guard case .object(let envelope) = request else {
            throw MasterError(.badRequest, operation: "submit", message: "a request is a JSON object")
        }
        return try await core.submitLocal(
            agentID: agentID,
            request: envelope,
            timeoutMillis: MasterCore.milliseconds(timeout)
        ).get()
    }

    /// ``submit(agentID:request:timeout:)`` and wait: the agent's `result` envelope (any status).
    public func perform(agentID: String, request: JSONValue, timeout: Duration) async throws(MasterError) -> JSONObject
    {
        let events = try await submit(agentID: agentID, request: request, timeout: timeout)
        for await event in events {
            switch event {
            case .submitted: continue
            case .answer(let envelope):
                if envelope["type"]?.stringValue == "result" { return envelope }
            case .failed(let error):
                throw error
            }
        }
        throw MasterError(.shutdown, operation: "perform", message: "the request ended without a result")
    }

    /// The fleet snapshot (`fleet` control message): agents, their last heartbeat, and the counters.
    public func fleet() async -> JSONValue { await core.snapshot() }

    /// The record of one agent, if it ever said hello or sent a heartbeat.
    public func agent(_ agentID: String) async -> AgentRecord? { await core.record(agentID) }

    /// The counters so far (the ZAP statistics are in ``fleet()``).
    public func counters() async -> MasterCounters { await core.currentCounters }

    /// Runs a master for the duration of `body`: starts it, waits until it serves (throwing its start-up error),
    /// runs `body`, then stops it and waits until everything is closed.
    public static func withRunning<T: Sendable>(
        _ configuration: MasterConfiguration,
        logger: Logger = Logger(label: "decnet.master"),
        _ body: @Sendable (MasterServer) async throws -> T
    ) async throws -> T {
        let server = MasterServer(configuration: configuration, logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await server.run()
                return nil
            }
            do {
                _ = try await server.endpoints()
                let value = try await body(server)
                server.stop()
                try await group.waitForAll()
                return value
            } catch {
                server.stop()
                try? await group.waitForAll()
                throw error
            }
        }
    }
}
