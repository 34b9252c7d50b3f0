import AgentProtocol
import DecnetJSON
import Foundation
import Master
import Testing
import ZeroMQ

/// Many requests in a row through the master each come back, and a burst of heartbeats sent back to back all reach a
/// monitor: nothing is dropped below the high-water marks. How fast is measured by scripts/bench-wire.sh, not here
/// (docs/performance.md).
@Suite(.serialized)
struct MasterBurstTests {
    @Test func everyRequestOfARunAndEveryHeartbeatOfABurstGetsThrough() async throws {
        let harness = try MasterHarness()
        try await harness.run { master, endpoints in
            let agent = try await harness.agent("agent-a", endpoints: endpoints)
            let monitor = try await harness.monitor(endpoints: endpoints)
            try await monitor.waitUntilSubscribed()
            agent.hello()
            #expect(await eventually { await master.agent("agent-a")?.connected == true })
            // The agent answers every ping as it arrives (polling its recorder, the stream's one consumer).
            let responder = Task {
                var handled = 0
                while !Task.isCancelled {
                    let items = agent.received.items
                    for message in items[handled...] {
                        guard let request = try? JSONParser.parse(message.frames.last ?? []),
                            let id = request["id"]?.stringValue
                        else { continue }
                        agent.dealer.send(ZMQMessageFactory.result(id: id, bootID: agent.bootID))
                    }
                    handled = items.count
                    try? await Task.sleep(for: .microseconds(500))
                }
            }
            let count = 300
            for index in 0..<count {
                let ping = OutgoingRequest(id: "m-\(index)", .ping)
                let result = try await master.perform(
                    agentID: "agent-a",
                    request: ping.jsonValue,
                    timeout: .seconds(10)
                )
                #expect(try ResultMessage(result).status == 200)
            }
            responder.cancel()

            try await agent.waitUntilPublishing()
            let beats = 500
            for _ in 0..<beats { agent.heartbeat() }
            let relayed = await monitor.received.all(count: beats, seconds: 30) { $0.string(at: 0) == "hb.agent-a" }
            #expect(relayed.count == beats)
            await agent.close()
            await monitor.close()
        }
    }
}

/// A successful ping result frame, built without going through the recorder (the responder owns the stream).
enum ZMQMessageFactory {
    static func result(id: String, bootID: String) -> ZMQMessage {
        ZMQMessage(frames: [
            Messages.frame(
                Messages.result(
                    id: id,
                    body: [
                        "agent_id": "agent-a", "boot_id": .string(JSONString(bootID)), "agent_version": "0.1.0-sim",
                    ]
                )
            )
        ])
    }
}
