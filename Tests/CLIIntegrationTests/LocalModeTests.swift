import AgentProtocol
import DecnetJSON
import Foundation
import TestSupport
import Testing

/// `decnet-agent local` against the real dockerd (scripts/test.sh starts it and builds the test images).
@Suite("decnet-agent local against the real Docker Engine", .serialized)
struct LocalModeTests {
    static let agent = ProcessRunner.executable("decnet-agent")
    static let repository = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()

    /// The example topology under a fresh id and fresh subnets, so concurrent Docker tests never collide with it.
    struct Sample {
        let id: String
        let prefix: String
        let file: String
        let stateDir: String

        init(gatewayServices: [String] = ["mqtt", "redis"]) throws {
            let token = String(UUID().uuidString.lowercased().prefix(8))
            id = "\(token)-local-mode-test"
            prefix = String(id.prefix(8))
            let third = Int.random(in: 100...250)
            let example = try JSONParser.parse(
                [UInt8](Data(contentsOf: repository.appendingPathComponent("examples/topology.json")))
            )
            var text = PythonJSONEncoder().string(example)
            text = text.replacingOccurrences(of: "7d3f0c2a-5b1e-4c8d-9a6f-2e4b8c1d0f3a", with: id)
                .replacingOccurrences(of: "172.30.70.", with: "10.\(third).70.")
                .replacingOccurrences(of: "172.30.71.", with: "10.\(third).71.")
                .replacingOccurrences(
                    of: #"["mqtt","redis"]"#,
                    with: PythonJSONEncoder().string(JSONValue(gatewayServices))
                )
            let dir = NSTemporaryDirectory() + "local-mode-\(token)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            file = dir + "/topology.json"
            stateDir = dir + "/state"
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        }

        func run(_ args: [String]) throws -> ProcessRunner.Output {
            try ProcessRunner.run(LocalModeTests.agent, args)
        }

        func apply() throws -> ProcessRunner.Output {
            try run([
                "local", "apply", file, "--state-dir", stateDir, "--templates-dir",
                LocalModeTests.repository.appendingPathComponent("examples/templates").path,
                "--base-image", "decnet-test/busybox:latest",
            ])
        }

        func teardown() throws -> ProcessRunner.Output { try run(["local", "teardown", id, "--state-dir", stateDir]) }

        func labelled() throws -> [String] {
            let out = try ProcessRunner.run(
                "/usr/bin/env",
                ["docker", "ps", "-a", "--filter", "label=decnet.topology.id=\(id)", "--format", "{{.Names}}"]
            )
            return out.stdoutText.split(separator: "\n").map(String.init).sorted()
        }

        func cleanUp() {
            _ = try? teardown()
            try? FileManager.default.removeItem(atPath: (file as NSString).deletingLastPathComponent)
        }
    }

    static var dockerAnswers: Bool {
        (try? ProcessRunner.run("/usr/bin/env", ["docker", "version", "--format", "{{.Server.APIVersion}}"]).status)
            == 0
    }

    @Test(.enabled(if: dockerAnswers, "no Docker daemon answers: run scripts/docker-test-env.sh"))
    func applyStateComposePsTeardown() throws {
        let s = try Sample()
        defer { s.cleanUp() }
        let applied = try s.apply()
        #expect(applied.status == 0, "\(applied.stderr)")
        let body = try JSONParser.parse([UInt8](applied.stdout))
        #expect(body["status"] == "applied")
        #expect(try s.labelled().count == 8)

        let output = try s.run(["local", "state", "--state-dir", s.stateDir]).stdout
        let state = try AgentState(JSONParser.parse([UInt8](output)))
        #expect(state.topologyID == s.id)
        #expect(state.drift == AgentState.Drift())
        #expect(state.observed.containers?.count == 8)

        // The compose document is written where operators expect it, and compose sees the containers.
        let composeFile = s.stateDir + "/topologies/decnet-topology-\(s.prefix)-compose.yml"
        #expect(FileManager.default.fileExists(atPath: composeFile))
        let ps = try ProcessRunner.run(
            "/usr/bin/env",
            ["docker-compose", "-p", "decnet-topo-\(s.prefix)", "-f", composeFile, "ps"]
        )
        if ps.status == 0 { #expect(ps.stdoutText.contains("decky-002-ssh")) }

        // Re-applying the same topology changes nothing.
        let again = try s.apply()
        #expect(again.status == 0, "\(again.stderr)")

        let torn = try s.teardown()
        #expect(torn.status == 0)
        #expect(try JSONParser.parse([UInt8](torn.stdout))["removed"]?["containers"]?.arrayValue?.count == 8)
        #expect(try s.labelled().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: composeFile))
    }

    @Test(.enabled(if: dockerAnswers, "no Docker daemon answers: run scripts/docker-test-env.sh"))
    func teardownWorksWithAWipedStore() throws {
        let s = try Sample()
        defer { s.cleanUp() }
        #expect(try s.apply().status == 0)
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: s.stateDir + "/agent.db" + suffix)
        }
        let torn = try s.teardown()
        #expect(torn.status == 0, "\(torn.stderr)")
        #expect(try s.labelled().isEmpty)
    }

    @Test(.enabled(if: dockerAnswers, "no Docker daemon answers: run scripts/docker-test-env.sh"))
    func aBoundHostPortIsRefusedBeforeAnyChange() throws {
        // Hold a TCP port, then ask for a gateway publishing it (mqtt is 1883 in the catalog; use a custom port
        // through a catalog would be heavier: bind 1883 only if free, else skip the assertion on this host).
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(1883).bigEndian
        address.sin_addr = in_addr(s_addr: INADDR_ANY)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(bound == 0 && listen(listener, 1) == 0, "port 1883 is in use on this host already")
        let s = try Sample()
        defer { s.cleanUp() }
        let out = try s.apply()
        #expect(out.status == 1)
        let failure = try JSONParser.parse([UInt8](out.stdout))
        #expect(failure["status"] == 409)
        #expect(failure["error"]?["code"] == "port_conflict")
        #expect(failure["error"]?["details"]?["ports"]?.arrayValue?.contains { $0["port"] == 1883 } == true)
        #expect(try s.labelled().isEmpty)
        let networks = try ProcessRunner.run(
            "/usr/bin/env",
            ["docker", "network", "ls", "-q", "--filter", "label=decnet.topology.id=\(s.id)"]
        )
        #expect(networks.stdoutText.isEmpty)
    }

    @Test func badTopologyIdIsRefused() throws {
        let out = try ProcessRunner.run(
            Self.agent,
            ["local", "teardown", "../etc", "--state-dir", NSTemporaryDirectory()]
        )
        #expect(out.status == 2)
    }
}
