import AgentProtocol
import AgentTransport
import DecnetJSON
import Foundation
import LiveTestSupport
import Logging
import TestSupport
import Testing
import Topology
import ZeroMQ

/// The agent's side of docs/reliability.md#peers and docs/reliability.md#secrets: it accepts no connection at all
/// (it listens on nothing and only completes a CURVE handshake with the master key it pins), its files are private,
/// and its logs never carry a secret key.
/// The master's refusal to start without its ZAP handler is tested in MasterTests (MasterSecurityTests).
@Suite("Agent security", .serialized)
struct SecurityTests {
    /// Group and other permission bits of a file, or nil when it does not exist.
    static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? nil
    }

    @Test func theRealAgentProcessListensOnNothingAndKeepsItsFilesPrivate() async throws {
        let master = try await TestMaster()
        let pump = Task { await master.pump() }
        let child = try AgentProcess(master: master)
        defer { child.remove() }
        var stopped = false
        do {
            try await master.waitFor("hello from the child agent", timeout: .seconds(30)) {
                master.commands.value.contains { $0.routingId == child.agentID && $0.message["type"] == "hello" }
            }
            // Work that writes the store: a ping, and an apply that fails (no Docker) and is recorded as an attempt.
            let ping = try await master.exchange(child.agentID, frames: [Frames.ping("child-ping")])
            #expect(try ResultMessage(answer: ping).status == 200)
            let apply = try await master.exchange(child.agentID, frames: [Frames.apply(id: "child-apply")])
            #expect(try ResultMessage(answer: apply).error?.code == .dockerUnavailable)

            let sockets = try ProcessSockets.of(pid: child.pid)
            let commandPort = Int(master.commandEndpoint.value.split(separator: ":").last ?? "")
            #expect(sockets.sockets.filter(\.listening).isEmpty, "listening: \(sockets.sockets.filter(\.listening))")
            #expect(!sockets.sockets.contains { $0.kind.hasPrefix("udp") }, "\(sockets.sockets)")
            // Non-vacuous: the child's own outgoing connection to the master's command port is seen.
            #expect(
                sockets.sockets.contains { $0.kind.hasPrefix("tcp") && $0.established && $0.remotePort == commandPort },
                "\(sockets.sockets), unknown inodes \(sockets.unknown), command port \(commandPort ?? 0)"
            )

            // Non-vacuous the other way: the same reader sees the test master's listening socket in this process.
            let ours = try ProcessSockets.of(pid: getpid())
            #expect(ours.sockets.contains { $0.listening && $0.localPort == commandPort })

            let state = child.stateDirectory
            for path in [state + "/agent.db", state + "/agent.db-wal", state + "/agent.db-shm", state + "/agent.lock"] {
                let mode = try #require(Self.mode(path), "\(path) missing")
                #expect(mode & 0o077 == 0, "\(path) has mode \(String(mode, radix: 8))")
            }
            let directoryMode = try #require(Self.mode(state))
            #expect(directoryMode & 0o077 == 0, "state directory mode \(String(directoryMode, radix: 8))")

            let status = await child.stop()
            stopped = true
            #expect(status == 0)
            let log = child.output
            #expect(log.contains("connected to master"))
            Self.expectNoSecret(in: log, keys: [child.keys, master.keys])
        } catch {
            if !stopped { _ = await child.stop() }
            pump.cancel()
            await master.shutdown()
            throw error
        }
        pump.cancel()
        await master.shutdown()
    }

    @Test func secretsNeverAppearInTraceLevelLogsThroughAFullApply() async throws {
        let capture = LogCapture()
        let logger = capture.logger("test.secrets")
        var keys: [CurveKeyPair] = []
        try await DaemonUnderTest.withMaster(logger: logger) { master, agent in
            keys = [agent.keys, master.keys]
            let applied = try await master.exchange(agent.id, frames: [Frames.apply(id: "apply-1")])
            #expect(try ResultMessage(answer: applied).status == 200)
            _ = try await master.exchange(agent.id, frames: [Frames.apply(id: "apply-bad", hash: "00")])
            _ = try await master.exchange(agent.id, frames: [[0xFF]])
            let state = Frames.envelope([("proto", 1), ("type", "state"), ("id", "s")])
            _ = try await master.exchange(agent.id, frames: [state])
            agent.runtime.update { $0.failPhase = "containers" }
            let failing = Topologies.withServices(Frames.topology, decky: 0, ["ssh", "http"])
            _ = try await master.exchange(agent.id, frames: [Frames.apply(id: "apply-fails", failing)])
            agent.runtime.update { $0.failPhase = nil }
            let teardownFrame = Frames.teardown(id: "t-1", .string(JSONString(Frames.topologyID)))
            let teardown = try await master.exchange(agent.id, frames: [teardownFrame])
            #expect(try ResultMessage(answer: teardown).body?["status"] == "torn_down")
            // A reconnect: the master goes away and comes back on the same port.
            let endpoint = master.commandEndpoint.value
            await master.closeRouter()
            // The agent saw the master go before it comes back on the same port.
            #expect(
                await eventually(within: 20) {
                    !capture.entries(.warning, "master connection lost; reconnecting").isEmpty
                }
            )
            try await master.openRouter(endpoint: endpoint)
            try await master.waitFor("second hello") {
                master.commands.value.filter { $0.routingId == agent.id && $0.message["type"] == "hello" }.count >= 2
            }
        }
        let log = capture.lines.joined(separator: "\n")
        // Non-vacuous: the capture saw the handshake, the apply and the failures.
        #expect(log.contains("connected to master"))
        #expect(log.contains("rejected a command frame"))
        #expect(log.contains("failed"))
        #expect(capture.entries.count >= 8)
        Self.expectNoSecret(in: log, keys: keys)
    }

    @Test func theLinkConfigurationAndKeysNeverPrintTheirSecret() throws {
        let keys = try CurveKeyPair.generate()
        let link = AgentTransportTestSupport.link(keys: keys)
        let texts = [String(describing: link), String(reflecting: link), String(describing: keys), "\(keys.secretKey)"]
        for text in texts {
            Self.expectNoSecret(in: text, keys: [keys])
        }
    }

    @Test func certificatesWrittenByTheZeroMQWriterKeepTheSecretPrivate() throws {
        let directory = NSTemporaryDirectory() + "hostile-certs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keys = try CurveKeyPair.generate()
        let certificate = ZMQCertificate(keyPair: keys, metadata: ["agent-id": "a1", "role": "agent"])
        try certificate.write(directory: directory, name: "a1")
        #expect(Self.mode(directory + "/a1.key_secret") == 0o600)
        #expect(Self.mode(directory + "/a1.key") == 0o644)
        let publicText = try String(contentsOfFile: directory + "/a1.key", encoding: .utf8)
        Self.expectNoSecret(in: publicText, keys: [keys])
        // A secret file loosened by someone is replaced with a private one on overwrite.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory + "/a1.key_secret")
        try certificate.write(directory: directory, name: "a1", overwrite: true)
        #expect(Self.mode(directory + "/a1.key_secret") == 0o600)
    }

    @Test func composeFilesAndTheStoreOfAnAppliedTopologyAreNotWorldReadable() async throws {
        try await HostileAgent.withBaseline { agent in
            let topologies = agent.directory + "/topologies"
            let files = try FileManager.default.contentsOfDirectory(atPath: topologies)
            #expect(files == ["decnet-topology-5d81934e-compose.yml"])
            for path in [agent.directory, topologies, agent.store.path] + files.map({ topologies + "/" + $0 }) {
                let mode = try #require(Self.mode(path))
                #expect(mode & 0o007 == 0, "\(path) has mode \(String(mode, radix: 8))")
            }
        }
    }

    @Test func aPlainMasterWithoutCURVEGetsNothingAndCommandsNothing() async throws {
        let context = try ZMQContext()
        let thread = try SocketThread(context: context, name: "plain-master")
        let router = try await thread.open(.router, linger: 0, monitored: true) { (s: ZMQSocket) throws(ZMQError) in
            try s.setOption(.routerMandatory, true)
            try s.bind("tcp://127.0.0.1:*")
        }
        let sub = try await thread.open(.sub, linger: 0, monitored: true) { (s: ZMQSocket) throws(ZMQError) in
            try s.setOption(.subscribe, [])
            try s.bind("tcp://127.0.0.1:*")
        }
        let received = Locked<[ZMQMessage]>([])
        let failedHandshakes = Locked<Set<String>>([])
        let collect = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { for await m in router.messages { received.withLock { $0.append(m) } } }
                group.addTask { for await m in sub.messages { received.withLock { $0.append(m) } } }
                for (name, socket) in [("router", router), ("sub", sub)] {
                    group.addTask {
                        for await event in socket.events where event.isHandshakeFailure {
                            failedHandshakes.withLock { _ = $0.insert(name) }
                        }
                    }
                }
            }
        }
        let capture = LogCapture()
        let agent = try await DaemonUnderTest(
            commandEndpoint: try await router.lastEndpoint(),
            heartbeatEndpoint: try await sub.lastEndpoint(),
            masterKey: try CurveKeyPair.generate().publicKey,
            logger: capture.logger("test.plain")
        )
        let run = Task { try await agent.app.run() }
        // Both of the agent's sockets dialled and their handshakes failed on the plain sockets' side.
        #expect(await eventually(within: 20) { failedHandshakes.value == ["router", "sub"] })
        #expect(await eventually(within: 20) { !capture.entries(.error, Self.refusedHandshake).isEmpty })
        // No connection to command: a ROUTER that must route refuses both frames.
        for frame in [Frames.ping("plain"), Frames.apply(id: "plain-apply")] {
            await #expect(throws: ZMQError.self) {
                _ = try await router.sendConfirmed(ZMQMessage(frames: [Array(agent.id.utf8), frame]))
            }
        }
        #expect(received.value.isEmpty)
        #expect(try agent.snapshot().requests.isEmpty)
        #expect(agent.runtime.calls.isEmpty)
        run.cancel()
        _ = try? await run.value
        collect.cancel()
        await thread.shutdown()
        await context.terminateOffPool()
        await agent.remove()
    }

    @Test func aCURVEMasterWithAnotherKeyGetsNothingAndCommandsNothing() async throws {
        // The impostor even allows the agent's key: the agent still refuses it, because it pins the real master's.
        let impostor = try await TestMaster()
        let pump = Task { await impostor.pump() }
        let capture = LogCapture()
        let agent = try await DaemonUnderTest(
            commandEndpoint: impostor.commandEndpoint.value,
            heartbeatEndpoint: impostor.heartbeatEndpoint,
            masterKey: try CurveKeyPair.generate().publicKey,
            logger: capture.logger("test.impostor")
        )
        try impostor.allow(agentID: agent.id, keys: agent.keys)
        let run = Task { try await agent.app.run() }
        // The agent dialled and its handshake failed: the impostor cannot open a HELLO sealed for the real key, so
        // its ZAP handler is never even asked.
        #expect(await eventually(within: 20) { !capture.entries(.error, Self.refusedHandshake).isEmpty })
        #expect(impostor.zap.statistics.requests == 0)
        // No connection to command: the impostor's ROUTER (which must route) refuses both frames.
        for frame in [Frames.ping("impostor"), Frames.apply(id: "impostor-apply")] {
            await #expect(throws: ZMQError.self) {
                _ = try await impostor.router.value?.sendConfirmed(ZMQMessage(frames: [Array(agent.id.utf8), frame]))
            }
        }
        #expect(impostor.commands.value.isEmpty)
        #expect(impostor.published.value.isEmpty)
        #expect(try agent.snapshot().requests.isEmpty)
        #expect(agent.runtime.calls.isEmpty)
        run.cancel()
        _ = try? await run.value
        pump.cancel()
        await impostor.shutdown()
        await agent.remove()
    }

    // MARK: helpers

    static let refusedHandshake =
        "handshake with master failed (wrong master key, or this agent's key is not allowed); backing off"

    /// No form of any of the secret keys (Z85, hex in either case, base64) occurs in `text`.
    static func expectNoSecret(
        in text: String,
        keys: [CurveKeyPair],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for pair in keys {
            let bytes = pair.secretKey.withUnsafeBytes { Array($0) }
            let hex = bytes.map { String(format: "%02x", $0) }.joined()
            for form in [pair.secretKeyZ85, hex, hex.uppercased(), Data(bytes).base64EncodedString()] {
                #expect(!text.contains(form), "a secret key appears in the text", sourceLocation: sourceLocation)
            }
            // And the public key is not mistaken for one: it may appear, the secret may not.
            #expect(pair.secretKeyZ85 != pair.publicKey.z85, sourceLocation: sourceLocation)
        }
    }
}

/// A link configuration for printing tests.
enum AgentTransportTestSupport {
    static func link(keys: CurveKeyPair) -> AgentTransport.AgentLinkConfiguration {
        AgentTransport.AgentLinkConfiguration(
            agentID: "a1",
            commandEndpoint: "tcp://127.0.0.1:8771",
            heartbeatEndpoint: "tcp://127.0.0.1:8772",
            masterKey: keys.publicKey,
            keys: keys
        )
    }
}
