import Foundation
import TestSupport
import Testing
import ZeroMQ

/// Interop with pyzmq for real: its certificates load here, ours load there, and CURVE works both ways over TCP.
@Suite(.serialized) struct PyzmqInteropTests {
    @Test func certificatesWrittenByPyzmqLoadHere() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for (name, agentID) in [("plain", nil), ("with-meta", "host-17")] as [(String, String?)] {
            let keys = try await PythonHelper.json(["create", directory.path, name] + (agentID.map { [$0] } ?? []))
            let publicZ85 = try #require(keys["public"] ?? nil)
            let secretZ85 = try #require(keys["secret"] ?? nil)

            let secret = try ZMQCertificate.loadSecret(directory: directory.path, name: name)
            #expect(secret.publicKey.z85 == publicZ85)
            #expect(secret.keyPair?.secretKeyZ85 == secretZ85)
            #expect(secret.agentID == agentID)  // pyzmq writes metadata unquoted, in the secret file only
            let publicOnly = try ZMQCertificate.load(path: directory.file(name + ".key"))
            #expect(publicOnly.publicKey.z85 == publicZ85)
            #expect(publicOnly.secretKey == nil)
        }
        // The allow-list takes pyzmq's public files, naming them after the file.
        let allowList = try AllowListAuthoriser(directory: directory.path)
        #expect(Set(allowList.identities.values) == ["plain", "with-meta"])
    }

    @Test func certificatesWrittenHereLoadInPyzmq() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let certificate = try ZMQCertificate.generate(metadata: ["agent-id": "host-17", "role": "agent"])
        try certificate.write(directory: directory.path, name: "host-17")
        let fromSecret = try await PythonHelper.json(["load", directory.file("host-17.key_secret")])
        #expect(fromSecret["public"] == certificate.publicKey.z85)
        #expect(fromSecret["secret"] == certificate.keyPair?.secretKeyZ85)
        let fromPublic = try await PythonHelper.json(["load", directory.file("host-17.key")])
        #expect(fromPublic["public"] == certificate.publicKey.z85)
        #expect(fromPublic["secret"] == .some(nil))
    }

    @Test func pyzmqClientWithOurKeysTalksToOurServer() async throws {
        try await CurveWorld.run { world in
            let keyDirectory = try TemporaryDirectory()
            defer { keyDirectory.remove() }
            let client = try ZMQCertificate.generate(metadata: ["agent-id": "py-agent", "role": "agent"])
            try client.write(directory: keyDirectory.path, name: "py-agent")
            try client.write(directory: world.allowDirectory.path, name: "py-agent")  // listed (public part read)
            try ZMQCertificate(keyPair: world.serverKeys, metadata: ["role": "master"])
                .write(directory: keyDirectory.path, name: "master")
            let (router, endpoint) = try await world.router()

            let python = try PythonHelper.start([
                "client", endpoint, keyDirectory.file("master.key"), keyDirectory.file("py-agent.key_secret"), "ping",
            ])
            let request = try await next(router.messages, within: 30, "pyzmq's request")
            #expect(request.userId == client.publicKey.z85)
            #expect(world.allowList.identity(forUserId: request.userId ?? "") == "py-agent")
            #expect(request.string(at: 1) == "ping")
            router.send(ZMQMessage(frames: [request.routingId!, Array("pong".utf8)]))
            #expect(try await python.exitStatus(seconds: 30) == 0, "\(python.stderr)")
            #expect(python.stdout == "pong\n")
        }
    }

    @Test func ourClientTalksToAPyzmqServerCheckingItsAllowList() async throws {
        let keyDirectory = try TemporaryDirectory()
        let allowDirectory = try TemporaryDirectory()
        defer {
            keyDirectory.remove()
            allowDirectory.remove()
        }
        let server = try ZMQCertificate.generate(metadata: ["role": "master"])
        try server.write(directory: keyDirectory.path, name: "master")
        let client = try ZMQCertificate.generate(metadata: ["agent-id": "host-17", "role": "agent"])
        try client.write(directory: allowDirectory.path, name: "host-17")
        let python = try PythonHelper.start(["server", allowDirectory.path, keyDirectory.file("master.key_secret")])
        let endpoint = try await python.firstLine()
        #expect(endpoint.hasPrefix("tcp://127.0.0.1:"))

        let context = try ZMQContext()
        let thread = try SocketThread(context: context, name: "zmq-test-pyzmq-client")
        let keys = try #require(client.keyPair)
        let serverKey = server.publicKey
        let dealer = try await thread.open(.dealer, linger: 0) { socket throws(ZMQError) in
            try socket.makeCurveClient(keys: keys, serverKey: serverKey)
            try socket.connect(endpoint)
        }
        dealer.send(ZMQMessage("hello from swift"))
        let reply = try await next(dealer.messages, within: 30, "pyzmq's echo")
        #expect(reply.frames == [Array("echo:hello from swift".utf8)])
        #expect(try await python.exitStatus(seconds: 30) == 0, "\(python.stderr)")
        await thread.shutdown()
        await context.terminateOffPool()
    }
}
