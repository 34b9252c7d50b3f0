import DecnetJSON
import Foundation
import TestSupport
import Testing

/// `decnet-agent local apply` with `files` knobs against the real dockerd: a path outside the files root (through a
/// symlink, `/`, the Docker socket, the state folder) is refused before any Docker change, a path inside it is
/// mounted (docs/reliability.md, "A hostile or broken host").
@Suite("files mounts confined to the files root", .serialized)
struct FilesRootLocalTests {
    /// The sample topology with decky-003's http service mounting `files`.
    static func sample(files: (LocalModeTests.Sample) -> String) throws -> LocalModeTests.Sample {
        let s = try LocalModeTests.Sample()
        let files = files(s)
        var text = try String(contentsOfFile: s.file, encoding: .utf8)
        let decky = try #require(text.range(of: "decky-003", options: .backwards))
        let config = try #require(
            text.range(
                of: #""service_config": ?\{\}"#,
                options: .regularExpression,
                range: decky.upperBound..<text.endIndex
            )
        )
        text.replaceSubrange(
            config,
            with: #""service_config": {"http": {"files": "# + PythonJSONEncoder().string(.string(JSONString(files)))
                + "}}"
        )
        try Data(text.utf8).write(to: URL(fileURLWithPath: s.file))
        return s
    }

    static func apply(_ s: LocalModeTests.Sample, root: String) throws -> ProcessRunner.Output {
        try s.run([
            "local", "apply", s.file, "--state-dir", s.stateDir, "--files-root", root, "--templates-dir",
            LocalModeTests.repository.appendingPathComponent("examples/templates").path,
            "--base-image", "decnet-test/busybox:latest",
        ])
    }

    @Test(.enabled(if: LocalModeTests.dockerAnswers, "no Docker daemon answers: run scripts/docker-test-env.sh"))
    func filesOutsideTheRootAreRefusedBeforeAnyDockerChange() throws {
        let host = try TemporaryDirectory("files-root")
        defer { host.remove() }
        let root = host.file("root")
        let keys = host.file("keys")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: keys + "/host-17.key_secret", contents: Data("secret".utf8))
        try FileManager.default.createSymbolicLink(atPath: root + "/bait", withDestinationPath: keys)

        // The last one mounts the agent's own state folder, refused even with `/` as the files root.
        let cases: [(String, (LocalModeTests.Sample) -> String)] = [
            (root, { _ in root + "/bait" }), (root, { _ in "/" }), (root, { _ in "/var/run/docker.sock" }),
            ("/", { $0.stateDir }),
        ]
        for (filesRoot, files) in cases {
            let s = try Self.sample(files: files)
            defer { s.cleanUp() }
            let out = try Self.apply(s, root: filesRoot)
            let files = files(s)
            #expect(out.status == 1, "\(files): \(out.stdoutText)")
            let failure = try JSONParser.parse([UInt8](out.stdout))
            #expect(failure["status"] == 400)
            #expect(failure["error"]?["code"] == "invalid_topology")
            let issue = failure["error"]?["details"]?["issues"]?.arrayValue?.first
            #expect(issue?["code"] == "FILES_OUTSIDE_ROOT", "\(files): \(out.stdoutText)")
            #expect(issue?["target"]?["path"] == "/deckies/2/decky_config/service_config/http/files")
            #expect(try s.labelled().isEmpty, "\(files): containers were created")
            let networks = try ProcessRunner.run(
                "/usr/bin/env",
                ["docker", "network", "ls", "-q", "--filter", "label=decnet.topology.id=\(s.id)"]
            )
            #expect(networks.stdoutText.isEmpty)
        }
    }

    @Test(.enabled(if: LocalModeTests.dockerAnswers, "no Docker daemon answers: run scripts/docker-test-env.sh"))
    func filesInsideTheRootAreMounted() throws {
        let host = try TemporaryDirectory("files-root")
        defer { host.remove() }
        let site = host.file("root/site")
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: true)
        let s = try Self.sample(files: { _ in site })
        defer { s.cleanUp() }
        let out = try Self.apply(s, root: host.file("root"))
        #expect(out.status == 0, "\(out.stderr)")
        let inspect = try ProcessRunner.run(
            "/usr/bin/env",
            ["docker", "inspect", "--format", "{{json .HostConfig.Binds}}", "decky-003-http"]
        )
        #expect(inspect.stdoutText.contains("\(site):/opt/html_files:ro"), "\(inspect.stdoutText) \(inspect.stderr)")
    }
}
