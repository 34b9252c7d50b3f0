import AgentProtocol
import AgentTransport
import DecnetJSON
import Foundation
import LiveTestSupport
import Logging
import TestSupport
import Testing
import ZeroMQ

/// The link's connection watch on a manual clock, over real CURVE sockets: after the master says `revoked`, both
/// sockets hang up and dial again only once the back-off passed (docs/wire-protocol.md#revoked). The watch looks every
/// 250 ms of the clock; each step below waits until it looked, so "not yet" is a fact, not a guess.
@Suite("Agent link redial", .serialized)
struct AgentLinkRedialTests {
    static let redialLog = "dialling the master again"

    @Test func aRevokedAgentHangsUpAndDialsAgainOnlyAfterTheBackOff() async throws {
        let master = try await TestMaster()
        let pump = Task { await master.pump() }
        let id = "redial-\(UUID().uuidString.prefix(8).lowercased())"
        let keys = try CurveKeyPair.generate()
        try master.allow(agentID: id, keys: keys)
        let configuration = AgentLinkConfiguration(
            agentID: id,
            commandEndpoint: master.commandEndpoint.value,
            heartbeatEndpoint: master.heartbeatEndpoint,
            masterKey: master.keys.publicKey,
            keys: keys,
            // The first back-off: 1 s jittered by ±25 %, so due between 0.75 and 1.25 s after the revocation.
            reconnectMillis: 1000,
            reconnectMaxMillis: 8000,
            lingerMillis: 0
        )
        let clock = ManualClock()
        let logs = LogCapture()
        let context = try ZMQContext()
        let link = try await AgentLink.connect(
            context: context,
            configuration: configuration,
            logger: logs.logger("test.link"),
            clock: clock
        )
        let hellos = { master.commands.value.filter { $0.routingId == id && $0.message["type"] == "hello" }.count }
        let redials = { logs.entries(.notice, Self.redialLog).count }
        let hello: JSONValue = ["proto": 1, "type": "hello", "agent_id": .string(JSONString(id))]
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await link.runConnectionWatch { hello } }
            group.addTask { for await _ in link.messages {} }
            defer { group.cancelAll() }
            #expect(await eventually(within: 20) { hellos() == 1 })

            master.send(to: id, Messages.revoked(agentID: id, reason: "test"))
            #expect(await eventually(within: 20) { link.state.lastError == "the master revoked this agent's key" })
            // The watch's next look (at 250 ms) hangs both sockets up and starts the back-off from there.
            try? await clock.waitForSleepers(1)
            clock.advance(by: .milliseconds(250))
            try? await clock.waitForSleepers(1)
            // Looks at 500, 750 and 1,000 ms (at most 750 ms into a back-off of at least 750 ms): no redial.
            for _ in 0..<3 {
                clock.advance(by: .milliseconds(250))
                try? await clock.waitForSleepers(1)
            }
            #expect(redials() == 0, "\(logs.lines)")
            #expect(hellos() == 1)
            // Looks at 1,250 and 1,500 ms: the back-off (at most 1,250 ms from 250 ms) is over for both sockets.
            for _ in 0..<2 {
                clock.advance(by: .milliseconds(250))
                try? await clock.waitForSleepers(1)
            }
            #expect(redials() == 2, "\(logs.lines)")
            #expect(await eventually(within: 20) { hellos() == 2 }, "a new handshake, a new hello")
        }
        await link.shutdown()
        await context.terminateOffPool()
        pump.cancel()
        await master.shutdown()
    }
}
