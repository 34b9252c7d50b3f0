import DecnetJSON
import Foundation
import LiveTestSupport
import TestSupport
import Testing

@testable import DockerEngine

/// Image builds through the tar writer, and the events stream, on the real daemon.
@Suite(.requiresDocker) struct DockerLiveBuildAndEventsTests {
    static let longPath = String(repeating: "d", count: 80) + "/" + String(repeating: "e", count: 60) + "/marker.txt"

    static func context(_ dockerfile: String, files: [String: String] = [:]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("build-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Data(dockerfile.utf8).write(to: root.appendingPathComponent("Dockerfile"))
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try Data(text.utf8).write(to: url)
        }
        return root
    }

    @Test func buildFromADirectoryAndRunTheImage() async throws {
        let run = UUID().uuidString
        let tag = DockerTestEnvironment.uniqueName("img") + ":test"
        let directory = try Self.context(
            """
            FROM \(DockerTestDaemon.busyboxImage)
            ARG GREETING=unset
            COPY hello.txt /hello.txt
            COPY deep/ /deep/
            RUN test "$GREETING" = "hi" && test "$(cat /hello.txt)" = "hello"
            CMD ["sh", "-c", "test \\"$(cat /hello.txt)\\" = hello && test -f /deep/\(Self.longPath) && exit 5"]
            """,
            files: ["hello.txt": "hello", "deep/" + Self.longPath: "x"]
        )
        defer { try? FileManager.default.removeItem(at: directory) }

        try await DockerTestEnvironment.withClient { client, cleanup in
            let result = try await client.buildImage(
                contextDirectory: directory.path,
                options: DockerBuildOptions(
                    tags: [tag],
                    buildArgs: ["GREETING": "hi"],
                    labels: ["decnet.test.run": run]
                )
            )
            await cleanup.image(result.imageID)
            #expect(result.imageID.hasPrefix("sha256:"))
            #expect(result.log.contains { $0.contains("Step 1/") })

            let image = try await client.inspectImage(tag)
            #expect(image.id == result.imageID && image.repoTags == [tag])
            #expect(image.labels["decnet.test.run"] == run)
            #expect(try await client.listImages(filters: .label("decnet.test.run", run)).map(\.id) == [result.imageID])

            let container = try await client.createContainer(
                name: DockerTestEnvironment.uniqueName("built"),
                body: ["Image": JSONValue(tag), "Labels": ["decnet.test": "1"], "HostConfig": ["NetworkMode": "none"]]
            )
            await cleanup.container(container.id)
            try await client.startContainer(container.id)
            // Exit 5 is only reached when both copied files (one through the ustar prefix field) are there.
            #expect(try await client.waitContainer(container.id).statusCode == 5)
        }
    }

    @Test func aFailingBuildStepIsBuildFailedWithDockersMessage() async throws {
        let directory = try Self.context("FROM \(DockerTestDaemon.busyboxImage)\nRUN exit 3\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await DockerTestEnvironment.withClient { client, _ in
            let error = await #expect(throws: DockerError.self) {
                _ = try await client.buildImage(contextDirectory: directory.path)
            }
            #expect(error?.code == .buildFailed && error?.isTransient == false)
            #expect(error?.message.contains("returned a non-zero code: 3") == true)
        }
    }

    @Test func eventsSeeALabelledContainerStartAndDieThenEndOnCancel() async throws {
        try await DockerTestEnvironment.withClient { client, cleanup in
            let run = UUID().uuidString
            do {
                let stream = try await client.events(filters: [
                    "type": ["container"], "label": ["decnet.test.run=\(run)"],
                ])
                #expect(client.poolStatistics.dedicated == 1)

                let created = try await client.createContainer(
                    name: DockerTestEnvironment.uniqueName("events"),
                    body: [
                        "Image": JSONValue(DockerTestDaemon.busyboxImage), "Cmd": ["true"],
                        "Labels": ["decnet.test": "1", "decnet.test.run": JSONValue(run)],
                        "HostConfig": ["NetworkMode": "none"],
                    ]
                )
                await cleanup.container(created.id)
                try await client.startContainer(created.id)

                let actions = try await withDeadline(15) {
                    var actions: [String] = []
                    for try await event in stream {
                        #expect(event.actorID == created.id && event.attributes["decnet.test.run"] == run)
                        actions.append(event.action)
                        if event.action == "die" { break }
                    }
                    return actions
                }
                #expect(actions == ["create", "start", "die"])
            }
            // Dropping the stream after leaving the loop terminated it and closed its connection.
            #expect(client.poolStatistics.dedicated == 0)

            // A consumer that is cancelled while waiting for the next event ends promptly.
            let quiet = try await client.events(filters: ["label": ["decnet.test.run=\(UUID().uuidString)"]])
            let started = ContinuousClock.now
            let ended = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    do {
                        for try await _ in quiet {}
                    } catch {}
                    return true
                }
                try? await Task.sleep(for: .milliseconds(200))
                group.cancelAll()
                return await group.next() ?? false
            }
            #expect(ended && ContinuousClock.now - started < .seconds(3))
            #expect(client.poolStatistics.dedicated == 0)
        }
    }
}
