import AgentCore
import DecnetJSON
import Foundation
import TestSupport
import Testing
import Topology

/// Where a `files` knob may point on the agent's apply path (docs/reliability.md, "A hostile or broken host").
@Suite struct FilesConfinementTests {
    /// A topology whose one decky runs `http` with `files` set to `path`.
    static func topology(files path: String) -> JSONValue {
        [
            "deckies": [
                [
                    "services": ["http"],
                    "decky_config": ["name": "web", "service_config": ["http": ["files": .string(JSONString(path))]]],
                ]
            ]
        ]
    }

    struct Host {
        let directory: TemporaryDirectory
        var root: String { directory.file("root") }
        var keys: String { directory.file("keys") }
        var state: String { directory.file("state") }

        init() throws {
            directory = try TemporaryDirectory("files-confinement")
            for folder in [root + "/site", keys, state] {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            }
            // A link inside the root that leads into the key folder.
            try FileManager.default.createSymbolicLink(atPath: root + "/bait", withDestinationPath: keys)
        }

        func confinement(root: String? = nil) -> FilesConfinement {
            FilesConfinement(root: root ?? self.root, protectedPaths: [keys, state])
        }
    }

    static func codes(_ confinement: FilesConfinement, _ files: String) -> [ValidationIssue] {
        confinement.issues(topology(files: files), catalog: .default)
    }

    @Test func aPathInsideTheRootIsAccepted() throws {
        let host = try Host()
        defer { host.directory.remove() }
        #expect(Self.codes(host.confinement(), host.root + "/site").isEmpty)
        #expect(Self.codes(host.confinement(), host.root + "/not-yet-there/sub").isEmpty)
        #expect(Self.codes(host.confinement(), host.root).isEmpty)
    }

    @Test func aSymlinkIntoTheKeyFolderIsRefusedWhateverTheRoot() throws {
        let host = try Host()
        defer { host.directory.remove() }
        for root in [host.root, "/"] {
            let issues = Self.codes(host.confinement(root: root), host.root + "/bait")
            #expect(issues.count == 1)
            #expect(issues.first?.code == FilesConfinement.outsideRootCode)
            #expect(issues.first?.message.contains("would expose") == true, "\(issues)")
            #expect(issues.first?.target["path"] == "/deckies/0/decky_config/service_config/http/files")
            #expect(issues.first?.target["name"] == .string(JSONString(host.root + "/bait")))
            // Below the link, and through a `..` that only the real path reveals.
            #expect(Self.codes(host.confinement(root: root), host.root + "/bait/sub").count == 1)
        }
    }

    @Test(arguments: ["/", "/var/run/docker.sock", "/run/docker.sock", "/run", "/var/run"])
    func theHostRootAndTheDockerSocketAreRefusedWhateverTheRoot(_ files: String) throws {
        let host = try Host()
        defer { host.directory.remove() }
        #expect(Self.codes(host.confinement(root: "/"), files).map(\.code) == [FilesConfinement.outsideRootCode])
    }

    @Test func theStateFolderAndWhatHoldsItAreRefused() throws {
        let host = try Host()
        defer { host.directory.remove() }
        for files in [host.state, host.state + "/topologies", host.directory.path, host.root + "/../state"] {
            #expect(Self.codes(host.confinement(root: "/"), files).count == 1, "\(files)")
        }
    }

    @Test func aPathOutsideTheRootIsRefused() throws {
        let host = try Host()
        defer { host.directory.remove() }
        let issues = Self.codes(host.confinement(), "/etc")
        #expect(issues.first?.message.contains("is not inside the agent's files root") == true, "\(issues)")
        #expect(Self.codes(host.confinement(), host.root + "/../elsewhere").count == 1)
    }
}
