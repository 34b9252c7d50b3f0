import AgentProtocol
import DecnetJSON
import Foundation
import Testing

extension FaultTests {
    /// Duplicate, reordered and very late requests, sent by a bare wire master (``WireMaster``) exactly as a test
    /// orders them, to a real agent process on the real dockerd (docs/reliability.md#duplicate-requests).
    @Suite("Duplicate, reordered and late requests")
    struct RetryOrder {
        @Test func answeredFromTheStoreNeverExecutedTwice() async throws {
            try await FaultWorld.run { world in
                let wire = try await WireMaster(directory: world.root + "/wire")
                do {
                    try await Self.scenario(world, wire)
                } catch {
                    await wire.shutdown()
                    throw error
                }
                await wire.shutdown()
            }
        }

        static func scenario(_ world: FaultWorld, _ wire: WireMaster) async throws {
            let agentID = "retries"
            try world.enrol(agentID, allowListDirectory: wire.allowListDirectory)
            func start() throws -> ChildProcess {
                try world.startAgent(
                    agentID,
                    commandEndpoint: wire.commandEndpoint,
                    heartbeatEndpoint: wire.heartbeatEndpoint,
                    masterKey: wire.publicKeyPath
                )
            }
            let agent = try start()
            try await eventually("hello", within: 30) { wire.hellos(agentID).count == 1 }
            let v1 = world.topology(deckies: 3)
            let v2 = v1.withServices(decky: 0, ["idle", "spare"])
            let spare = "\(v1.deckies[0].name)-spare"
            let events = try DockerEventLog.start(v1.id, world: world)

            // The same id twice at once, and another request in between: one execution, one result; the copy is
            // acknowledged (`accepted`, from the store's running row), the other request is refused as busy.
            let a1 = v1.applyRequest(id: "a1")
            wire.send(agentID, a1)
            wire.send(agentID, a1)
            wire.send(agentID, v1.teardownRequest(id: "t-meanwhile"))
            let r1 = try await wire.waitForResults("a1")[0]
            // A later request on the same connection: once it is answered, the agent has answered everything sent
            // before it, and it shows nothing running or failed (no second execution of a1 behind the first).
            let idle = try await Self.state(wire, agentID)
            #expect(idle["attempt"] == .null && idle["applied_version_hash"]?.stringValue == v1.hash)
            try await events.sync()
            #expect(wire.answers("a1").filter { $0.type == "accepted" }.count == 2)
            #expect(wire.results("a1").count == 1)
            #expect(try ResultMessage(answer: r1.message).status == 200)
            #expect(wire.results("t-meanwhile").first?.message["error"]?["code"] == "busy")
            #expect(events.creations() == Self.once(v1.containerNames))

            // A retry after the result: the stored result, byte for byte.
            #expect(try await wire.request(agentID, a1).bytes == r1.bytes)

            // A newer apply, then a very late retry of the older one: the old result, and v2 stays applied.
            let r2 = try await wire.request(agentID, v2.applyRequest(id: "a2"))
            #expect(try ResultMessage(answer: r2.message).status == 200)
            #expect(try await wire.request(agentID, a1).bytes == r1.bytes)
            #expect(try await Self.state(wire, agentID)["applied_version_hash"]?.stringValue == v2.hash)
            #expect(try DockerProbe.runningNames(v1.id).contains(spare))

            // Reordered: the master sent apply a3 (back to v1) and then teardown t3, and t3 arrives first. The
            // agent runs what arrives: t3 runs, a3 is refused as busy (not stored), the master's retry of a3 then
            // runs it. Later retries of either, in any order, come from the store: t3 is never run again.
            let a3 = v1.applyRequest(id: "a3")
            let t3 = v1.teardownRequest(id: "t3")
            wire.send(agentID, t3)
            wire.send(agentID, a3)
            let r3busy = try await wire.waitForResults("a3")[0]
            let rt3 = try await wire.waitForResults("t3")[0]
            #expect(try ResultMessage(answer: r3busy.message).error?.code == .busy)
            let torn = try ResultMessage(answer: rt3.message)
            #expect(torn.body?["status"] == "torn_down")
            #expect(Set(torn.body?["removed"]?["containers"]?.strings ?? []) == v2.containerNames)
            let r3 = try await wire.request(agentID, a3)
            #expect(try ResultMessage(answer: r3.message).status == 200)
            let settled = unixMillis()
            #expect(try await wire.request(agentID, t3).bytes == rt3.bytes)
            #expect(try await wire.request(agentID, a3).bytes == r3.bytes)
            #expect(try DockerProbe.runningNames(v1.id) == v1.containerNames)

            // After a restart of the agent (kill -9 while idle): the same bytes for every id.
            try await agent.kill9()
            _ = try start()
            try await eventually("hello of the restarted agent", within: 30) { wire.hellos(agentID).count >= 2 }
            for (request, stored) in [(a1, r1), (v2.applyRequest(id: "a2"), r2), (t3, rt3), (a3, r3)] {
                let again = try await wire.request(agentID, request)
                #expect(again.bytes == stored.bytes, "retry of \(request["id"]?.stringValue ?? "") after a restart")
            }

            // After many other requests (each one stored): still the same bytes. Retention is at least 24 hours
            // and at least the last 1,000 requests; nothing here is a day old, so nothing may go.
            let burst = 1_050
            let burstStart = ContinuousClock.now
            for n in 0..<burst {
                let filler = OutgoingRequest(
                    id: "n-\(n)",
                    .apply(ApplyRequest(hydrated: [:], versionHash: String(repeating: "0", count: 64)))
                )
                let answer = try await wire.request(agentID, filler.jsonValue, within: 20, poll: .milliseconds(1))
                if n == 0 { #expect(try ResultMessage(answer: answer.message).error?.code == .hashMismatch) }
            }
            measure("retry_burst_requests_per_second", burst * 1000 / max(1, millis(since: burstStart)))
            #expect(try await wire.request(agentID, a1).bytes == r1.bytes)
            #expect(try await wire.request(agentID, t3).bytes == rt3.bytes)

            // The same id with different content is refused, whatever the type.
            let reused = try await wire.request(agentID, v2.applyRequest(id: "a1"))
            let reusedResult = try ResultMessage(answer: reused.message)
            #expect(reusedResult.error?.code == .idReused)
            #expect(reusedResult.status == 409)
            #expect(
                try ResultMessage(answer: await wire.request(agentID, v1.teardownRequest(id: "a3")).message).error?.code
                    == .idReused
            )

            // Nothing ran for any retry: the only Docker changes since a3 settled are none at all.
            #expect(events.events(sinceMillis: settled).isEmpty, "\(events.summary(sinceMillis: settled))")
            #expect(try DockerProbe.runningNames(v1.id) == v1.containerNames)
            let state = try await Self.state(wire, agentID)
            #expect(state["applied_version_hash"]?.stringValue == v1.hash)
            #expect(DriftLists(state).isEmpty, "\(DriftLists(state))")
            let down = try await wire.request(agentID, v1.teardownRequest(id: "final-teardown"))
            #expect(try ResultMessage(answer: down.message).status == 200)
        }

        static func once(_ names: Set<String>) -> [String: Int] {
            Dictionary(uniqueKeysWithValues: names.map { ($0, 1) })
        }

        static func state(_ wire: WireMaster, _ agentID: String) async throws -> JSONValue {
            let id = "state-\(UUID().uuidString.prefix(8))"
            let answer = try await wire.request(agentID, OutgoingRequest(id: id, .state).jsonValue)
            return try ResultMessage(answer: answer.message).body ?? .null
        }
    }
}
