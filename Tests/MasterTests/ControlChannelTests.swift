import AgentProtocol
import DecnetJSON
import Foundation
import Master
import Synchronization
import TestSupport
import Testing

/// The operator control channel in-process: fleet snapshots, submits with their control messages, watch pushes,
/// refusals; every control message is checked against its schema.
@Suite("Master control channel", .serialized)
struct ControlChannelTests {
    @Test func submitWatchAndRefusalsOverTheControlSocket() async throws {
        let harness = try MasterHarness()
        try await harness.run { master, endpoints in
            #expect(endpoints.control == "ipc://" + harness.directory.file("control.ipc"))
            let client = try await ControlClient.connect(directory: harness.directory.path)
            let agent = try await harness.agent("agent-a", endpoints: endpoints)
            agent.hello()
            #expect(await eventually { await master.agent("agent-a")?.connected == true })
            let fleet = try await client.fleet()
            #expect(fleet["agents"]?.arrayValue?.count == 1)

            // submit: submitted, then the agent's answers wrapped in "answer", then the result.
            let request = OutgoingRequest(id: "ctl-ping-1", .ping).jsonValue
            let seen = Mutex<[JSONObject]>([])
            let responder = Task {
                guard let incoming = await agent.request(type: "ping") else { return }
                agent.send(
                    Messages.result(
                        id: (try? RequestDecoder().decode(incoming.message.frames.last ?? []).get().id) ?? "",
                        body: [
                            "agent_id": "agent-a", "boot_id": .string(JSONString(agent.bootID)),
                            "agent_version": "0.1.0-sim",
                        ]
                    )
                )
            }
            let result = try await client.submit(agentID: "agent-a", request: request, timeout: .seconds(20)) {
                message in
                seen.withLock { $0.append(message) }
            }
            await responder.value
            #expect(try ResultMessage(result).status == 200)
            let messages = seen.withLock { $0 }
            #expect(messages.first?["type"] == "submitted")
            #expect(messages.last?["type"] == "answer")

            // Refusals: a malformed request, and the same id with other content while in flight.
            await #expect(throws: MasterError.self) {
                _ = try await client.submit(
                    agentID: "agent-a",
                    request: ["proto": 1, "type": "ping", "id": "bad id"],
                    timeout: .seconds(5)
                )
            }
            let slow = OutgoingRequest(id: "ctl-state-1", .state).jsonValue
            let pending = try await master.submit(agentID: "agent-a", request: slow, timeout: .seconds(20))
            do throws(MasterError) {
                _ = try await client.submit(
                    agentID: "agent-a",
                    request: OutgoingRequest(id: "ctl-state-1", .ping).jsonValue,
                    timeout: .seconds(5)
                )
                Issue.record("a reused id was accepted")
            } catch {
                #expect(error.code == .idReused)
            }
            let stateRequest = try #require(await agent.request(type: "state"))
            agent.send(Messages.result(id: "ctl-state-1", body: SimulatedAgent.emptyState))
            for await _ in pending {}
            _ = stateRequest

            // watch: a snapshot at once, and another after a heartbeat changed the fleet.
            try await agent.waitUntilPublishing()
            let snapshots = Mutex<[JSONObject]>([])
            let watcher = Task {
                try await client.watch { snapshot in
                    let count = snapshots.withLock { list -> Int in
                        list.append(snapshot)
                        return list.count
                    }
                    return snapshot["agents"]?.arrayValue?.first?["heartbeat"]?["seq"]?.intValue != 1 || count < 2
                }
            }
            _ = await eventually { !snapshots.withLock { $0 }.isEmpty }
            agent.heartbeat()
            try await within(15, "a watch push after the heartbeat") { try await watcher.value }
            let pushed = snapshots.withLock { $0 }
            #expect(pushed.last?["agents"]?.arrayValue?.first?["heartbeat"]?["seq"]?.intValue == 1)

            var items = [
                SchemaCheck.Item(schema: "control-fleet-request.schema.json", message: ControlMessage.fleetRequest()),
                SchemaCheck.Item(schema: "control-watch.schema.json", message: ControlMessage.watch()),
                SchemaCheck.Item(
                    schema: "control-submit.schema.json",
                    message: ControlMessage.submit(agentID: "agent-a", request: request, timeoutMillis: 20_000)
                ),
                SchemaCheck.controlFromMaster(.object(fleet)),
                SchemaCheck.controlFromMaster(ControlMessage.error(id: nil, code: "bad_request", message: "x")),
            ]
            items += (messages + pushed).map { SchemaCheck.controlFromMaster(.object($0)) }
            try SchemaCheck.check(items)
            await client.close()
            await agent.close()
        }
    }

    /// `ControlMessage.errorCodes`, the wire codes of docs/control-channel.md#errors (its first table; the second
    /// lists the client-only codes) and the enum of control-error.schema.json are the same set.
    @Test func errorCodesAgreeWithTheDocsAndTheSchema() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let docs = try String(contentsOf: root.appendingPathComponent("docs/control-channel.md"), encoding: .utf8)
        let section = try #require(docs.components(separatedBy: #"<a id="errors"></a>"#).dropFirst().first)
        let wireTable = try #require(section.components(separatedBy: "Two more codes").first)
        var documented: Set<String> = []
        for line in wireTable.split(separator: "\n") where line.hasPrefix("| `") {
            documented.insert(String(line.dropFirst(3).prefix { $0 != "`" }))
        }
        #expect(documented == Set(ControlMessage.errorCodes))
        let schema = try JSONParser.parse(
            Array(try Data(contentsOf: root.appendingPathComponent("schemas/control-error.schema.json")))
        )
        let codes = schema["properties"]?["error"]?["properties"]?["code"]?["enum"]?.arrayValue ?? []
        #expect(Set(codes.compactMap(\.stringValue)) == Set(ControlMessage.errorCodes))
        #expect(ControlMessage.errorCodes.contains(MasterError.Code.unknownRequest.rawValue))
    }

    @Test func connectingWithoutAServingMasterFailsClearly() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        do throws(MasterError) {
            _ = try await ControlClient.connect(directory: directory.path)
            Issue.record("connected to nothing")
        } catch {
            #expect(error.code == .notServing)
        }
    }
}
