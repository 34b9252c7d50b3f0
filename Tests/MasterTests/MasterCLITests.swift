import AgentProtocol
import DecnetJSON
import Foundation
import LiveTestSupport
import Master
import TestSupport
import Testing
import ZeroMQ

/// Runs the built `decnet-master` as an operator would: keygen, serve, agents, apply, state.
@Suite("decnet-master operator commands", .serialized)
struct MasterCLITests {
    static func run(_ arguments: [String], seconds: Double = 60) async throws -> (Int32, String, String) {
        let process = try BackgroundProcess(arguments)
        let status = try await process.exitStatus(seconds: seconds)
        return (status, process.stdout, process.stderr)
    }

    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func keygenWritesBothFilesWithTheirModesAndRefusesToOverwrite() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (status, out, _) = try await Self.run([
            "keygen", "--dir", directory.path, "--name", "host-17", "--role", "agent",
        ])
        #expect(status == 0)
        let publicPath = directory.file("host-17.key")
        let secretPath = directory.file("host-17.key_secret")
        #expect(try Self.mode(publicPath) == 0o644)
        #expect(try Self.mode(secretPath) == 0o600)
        let certificate = try ZMQCertificate.load(path: secretPath)
        #expect(certificate.agentID == "host-17")
        #expect(certificate.role == "agent")
        #expect(certificate.secretKey != nil)
        #expect(out == certificate.publicKey.z85 + "\n")
        let monitor = try await Self.run(
            ["keygen", "--dir", directory.path, "--name", "ops", "--role", "monitor", "--agent-id", "ops-1"])
        #expect(monitor.0 == 0)
        #expect(try ZMQCertificate.load(path: directory.file("ops.key")).agentID == "ops-1")
        let again = try await Self.run(["keygen", "--dir", directory.path, "--name", "host-17", "--role", "agent"])
        #expect(again.0 == 1)
        #expect(again.2.contains("refusing to replace"))
        #expect(try ZMQCertificate.load(path: secretPath).publicKey == certificate.publicKey)
        let badRole = try await Self.run(["keygen", "--dir", directory.path, "--name", "x", "--role", "boss"])
        #expect(badRole.0 == 2)

        // pyzmq reads both files and finds the same keys.
        let script = """
            import json, sys, zmq.auth
            p, _ = zmq.auth.load_certificate(sys.argv[1]); q, s = zmq.auth.load_certificate(sys.argv[2])
            print(json.dumps({"public": p.decode(), "same": p == q, "secret": s is not None}))
            """
        let python = try BackgroundProcess(
            ["python3", "-c", script, publicPath, secretPath],
            executable: "/usr/bin/env"
        )
        #expect(try await python.exitStatus() == 0)
        let loaded = try JSONParser.parse(python.stdout)
        #expect(loaded["public"]?.stringValue == certificate.publicKey.z85)
        #expect(loaded["same"] == true)
        #expect(loaded["secret"] == true)
    }

    @Test func serveRefusesToStartWhenItsZAPHandlerCannotStart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let noKey = try await Self.run(["serve", "--dir", directory.path, "--command-port", "0"])
        #expect(noKey.0 != 0)
        #expect(noKey.2.contains("keygen"))
        _ = try KeyGenerator.generate(directory: directory.path, name: "master", role: .master)
        // No agents/ allow-list: the ZAP handler has nothing to decide with, so the master must not start.
        let (status, _, err) = try await Self.run([
            "serve", "--dir", directory.path, "--command-port", "0", "--heartbeat-port", "0", "--monitor-port", "0",
        ])
        #expect(status == 1)
        #expect(err.contains("refusing to start"))
        #expect(err.contains("zap_handler"))
        #expect(!FileManager.default.fileExists(atPath: directory.file("control.ipc")))
    }

    @Test func serveAgentsAndApplyAgainstASimulatedAgent() async throws {
        let harness = try MasterHarness()
        defer { harness.directory.remove() }
        let dir = harness.directory.path
        let serve = try BackgroundProcess([
            "serve", "--dir", dir, "--bind-host", "127.0.0.1", "--command-port", "0", "--heartbeat-port", "0",
            "--monitor-port", "0", "--log-format", "json", "--retry-interval", "1",
        ])
        // The JSON log line "master serving" carries the endpoints the ephemeral ports resolved to.
        var serving: JSONValue?
        _ = await eventually(20) {
            serving = serve.stderr.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
                .first { $0["message"]?.stringValue == "master serving" }
            return serving != nil || !serve.isRunning
        }
        let line = try #require(serving, "serve did not start: \(serve.stderr)")
        #expect(try Self.mode(harness.directory.file("control.ipc")) & 0o077 == 0)
        let endpoints = MasterEndpoints(
            command: line["command"]!.stringValue!,
            heartbeat: line["heartbeat"]!.stringValue!,
            monitor: line["monitor"]!.stringValue!,
            control: nil
        )
        let agent = try await harness.agent("agent-a", endpoints: endpoints)
        agent.hello()
        try await agent.waitUntilPublishing()
        agent.heartbeat()

        var fleet: JSONValue?
        _ = await eventually(20) {
            guard let (status, out, _) = try? await Self.run(["agents", "--dir", dir, "--json"]), status == 0 else {
                return false
            }
            fleet = try? JSONParser.parse(out)
            return fleet?["agents"]?.arrayValue?.first?["heartbeat"]?["seq"]?.intValue == 1
        }
        let snapshot = try #require(fleet)
        let entry = try #require(snapshot["agents"]?.arrayValue?.first)
        #expect(entry["agent_id"] == "agent-a")
        #expect(entry["connected"] == true)
        #expect(entry["boot_id"]?.stringValue == agent.bootID)
        #expect(snapshot["counters"]?["relayed"]?["heartbeats"]?.intValue == 1)
        let table = try await Self.run(["watch", "--dir", dir, "--once"])
        #expect(table.0 == 0)
        #expect(table.1.contains("agent-a"))

        // apply: the CLI computes the hash, the master records the desired state (it needs `topology.id`), the agent
        // answers, the result is printed, exit 0.
        let topology = harness.directory.file("topology.json")
        try Data(#"{"topology": {"id": "t-1", "updated_at": "x"}, "lans": []}"#.utf8).write(
            to: URL(fileURLWithPath: topology)
        )
        let apply = try BackgroundProcess(["apply", "--dir", dir, "--agent", "agent-a", "--timeout", "30", topology])
        let request = try #require(await agent.request(type: "apply", seconds: 30), "stderr: \(apply.stderr)")
        #expect(request.envelope["version_hash"]?.stringValue == CanonicalHashProbe.hash(of: topology))
        agent.answerApply(request.envelope)
        #expect(try await apply.exitStatus() == 0)
        let printed = try JSONParser.parse(apply.stdout)
        let result = try ResultMessage(try #require(printed.objectValue))
        #expect(result.status == 200)
        #expect(result.body?["status"] == "applied")
        #expect(apply.stderr.contains("[containers 1/1] started decky-001"))

        // A failed result exits 1.
        let state = try BackgroundProcess(["state", "--dir", dir, "--agent", "agent-a", "--timeout", "30"])
        let stateRequest = try #require(await agent.request(type: "state", seconds: 30))
        agent.send(
            Messages.failure(
                id: stateRequest.envelope["id"]?.stringValue,
                error: AgentError(.internal, "simulated failure")
            )
        )
        #expect(try await state.exitStatus() == 1)

        // request, requests: the store's record of the apply, its result verbatim; an unknown id exits 1.
        let applyID = try #require(printed["id"]?.stringValue)
        let looked = try await Self.run(["request", "--dir", dir, "--agent", "agent-a", "--json", applyID])
        #expect(looked.0 == 0, "\(looked.2)")
        let lookedMessage = try JSONParser.parse(looked.1)
        #expect(lookedMessage["request"]?["status"] == "finished")
        #expect(lookedMessage["request"]?["result"] == printed)
        #expect(lookedMessage["request"]?["origin"] == "operator" && lookedMessage["request"]?["topology_id"] == "t-1")
        let lookedTable = try await Self.run(["request", "--dir", dir, "--agent", "agent-a", applyID])
        #expect(lookedTable.0 == 0 && lookedTable.1.contains("finished") && lookedTable.1.contains("operator"))
        let listed = try await Self.run(["requests", "--dir", dir, "--agent", "agent-a", "--limit", "5", "--json"])
        #expect(listed.0 == 0, "\(listed.2)")
        let listedMessage = try JSONParser.parse(listed.1)
        #expect(listedMessage["requests"]?.arrayValue?.map { $0["id"] } == [.string(JSONString(applyID))])
        let listedTable = try await Self.run(["requests", "--dir", dir, "--agent", "agent-a"])
        #expect(listedTable.0 == 0 && listedTable.1.contains(applyID) && listedTable.1.contains("200"))
        let unknown = try await Self.run(["request", "--dir", dir, "--agent", "agent-a", "m-nothing"])
        #expect(unknown.0 == 1 && unknown.2.contains("[unknown_request]"), "\(unknown.2)")
        try SchemaCheck.check([lookedMessage, listedMessage].map { SchemaCheck.controlFromMaster($0) })

        // desired, pause, resume, forget: the apply above recorded the agent's desired topology.
        let desired = try await Self.run(["desired", "--dir", dir, "--json"])
        #expect(desired.0 == 0, "\(desired.2)")
        let desiredMessage = try JSONParser.parse(desired.1)
        let desiredEntry = desiredMessage["agents"]?.arrayValue?.first { $0["agent_id"] == "agent-a" }
        #expect(desiredEntry?["desired"]?["topology_id"] == "t-1")
        #expect(desiredEntry?["desired"]?["version_hash"]?.stringValue == CanonicalHashProbe.hash(of: topology))
        let desiredTable = try await Self.run(["desired", "--dir", dir, "--agent", "agent-a"])
        #expect(
            desiredTable.0 == 0 && desiredTable.1.contains("agent-a") && desiredTable.1.contains("t-1@"),
            "\(desiredTable.1)"
        )
        let paused = try await Self.run(["pause", "--dir", dir, "--agent", "agent-a", "--json"])
        #expect(paused.0 == 0)
        #expect(try JSONParser.parse(paused.1)["agents"]?.arrayValue?.first?["paused"] == true)
        let resumed = try await Self.run(["resume", "--dir", dir, "--agent", "agent-a", "--json"])
        #expect(try JSONParser.parse(resumed.1)["agents"]?.arrayValue?.first?["paused"] == false)
        let forgotten = try await Self.run(["forget", "--dir", dir, "--agent", "agent-a", "--json"])
        #expect(try JSONParser.parse(forgotten.1)["agents"]?.arrayValue?.first?["desired"] == .null)
        let refused = try await Self.run(["pause", "--dir", dir, "--agent", "../etc"])
        #expect(refused.0 == 1 && refused.2.contains("[bad_request]"), "\(refused.2)")
        try SchemaCheck.check(
            [desiredMessage, try JSONParser.parse(paused.1), try JSONParser.parse(forgotten.1)].map {
                SchemaCheck.controlFromMaster($0)
            }
        )

        serve.signal(SIGTERM)
        #expect(try await serve.exitStatus(seconds: 20) == 0)
        #expect(!FileManager.default.fileExists(atPath: harness.directory.file("control.ipc")))
        try SchemaCheck.check(
            [SchemaCheck.controlFromMaster(snapshot), SchemaCheck.wire(printed, requestType: "apply")]
                + agent.receivedMessages.map { SchemaCheck.wire($0) }
                + agent.sentMessages.map { SchemaCheck.wire($0) }
        )
        await agent.close()
    }
}
