import DecnetJSON
import DockerEngine
import DockerRuntime
import Foundation
import LiveTestSupport
import TestSupport
import Testing
import Topology

#if canImport(Glibc)
import Glibc
#endif

extension DockerRuntimeLiveTests {
    /// The observer loses Docker and finds it again, through a socat proxy this test starts and kills.
    @Suite(.enabled(if: SocketProxy.socat != nil, "socat is not installed: apt-get install socat"))
    struct ObserverReconnect {
        @Test func theCacheReportsTheOutageAndIsRebuiltWhenDockerIsBack() async throws {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                "decnet-proxy-\(UUID().uuidString).sock"
            ).path
            let proxies = ProxyHolder(try SocketProxy(listen: path, target: DockerTestDaemon.socketPath))
            let direct = DockerClient(configuration: .init(socketPath: DockerTestDaemon.socketPath))
            let proxied = DockerClient(configuration: .init(socketPath: path, connectTimeout: .seconds(1)))
            let runtime = DockerTopologyRuntime(
                client: proxied,
                configuration: .init(stateDirectory: "/nonexistent", reconnectBackoff: [.milliseconds(50)])
            )
            let topologyID = DockerTestTopology.newID()
            let name = "decnet_t_\(topologyID.prefix(8))_seen"
            let created = await withTaskGroup(of: Void.self, returning: String?.self) { group in
                group.addTask { await runtime.run() }
                let created = await Self.outage(
                    runtime,
                    direct: direct,
                    proxies: proxies,
                    path: path,
                    name: name,
                    topologyID: topologyID
                )
                runtime.shutdown()
                await group.waitForAll()
                return created
            }
            proxies.stop()
            if let created { try? await direct.removeContainer(created, force: true) }
            try await proxied.shutdown()
            try await direct.shutdown()
        }

        /// Cuts the proxy, makes a container while the observer is blind, restores the proxy; returns the container.
        static func outage(
            _ runtime: DockerTopologyRuntime,
            direct: DockerClient,
            proxies: ProxyHolder,
            path: String,
            name: String,
            topologyID: String
        ) async -> String? {
            #expect(await eventually(within: 5) { runtime.observer.isCurrent })
            proxies.stop()
            let lost = await eventually(within: 2) { await runtime.observe(topologyID: topologyID).error != nil }
            #expect(lost)
            #expect(!runtime.observer.isCurrent)
            do {
                let container = try await direct.createContainer(
                    name: name,
                    body: [
                        "Image": JSONValue(DockerTestDaemon.busyboxImage), "Cmd": ["sleep", "infinity"],
                        "Labels": ["decnet.topology.id": JSONValue(topologyID), "decnet.test": "1"],
                        "HostConfig": ["NetworkMode": "none", "Init": true],
                    ]
                )
                try await direct.startContainer(container.id)
                try proxies.restart(listen: path)
                let expected = [Observation.Container(name: name, running: true)]
                let back = await eventually(within: 5) {
                    let seen = await runtime.observe(topologyID: topologyID)
                    return runtime.observer.isCurrent && seen.containers == expected
                }
                let view = await runtime.observe(topologyID: topologyID)
                #expect(back, "\(view)")
                return container.id
            } catch {
                Issue.record(error)
                return nil
            }
        }
    }
}

/// The current proxy, replaced on restart.
final class ProxyHolder: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `proxy` is only touched while `lock` is held.
    private let lock = NSLock()
    private var proxy: SocketProxy

    init(_ proxy: SocketProxy) { self.proxy = proxy }

    func stop() { lock.withLock { proxy.stop() } }

    func restart(listen path: String) throws {
        try lock.withLock {
            proxy.stop()
            proxy = try SocketProxy(listen: path, target: DockerTestDaemon.socketPath)
        }
    }
}

/// `socat` forwarding a unix socket to Docker's, so a test can cut the observer off and reconnect it.
struct SocketProxy {
    static let socat = executable(["/usr/bin/socat", "/usr/local/bin/socat"])

    let process: Process
    let path: String

    init(listen path: String, target: String) throws {
        self.path = path
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.socat!)
        process.arguments = ["UNIX-LISTEN:\(path),fork,unlink-early", "UNIX-CONNECT:\(target)"]
        try process.run()
        let deadline = Date().addingTimeInterval(5)
        while !FileManager.default.fileExists(atPath: path) && Date() < deadline { usleep(10_000) }
    }

    /// Kills socat and the children it forked for open connections (found by parent id), and removes the socket.
    func stop() {
        guard process.isRunning else { return }
        let parent = process.processIdentifier
        // Children first found, then the parent stopped (it forks no more), then the children.
        let children = Self.children(of: parent)
        kill(parent, SIGKILL)
        for child in children + Self.children(of: parent) { kill(child, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: path)
    }

    static func children(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // Fields after the command: state, ppid, ...
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent ? pid : nil
        }
    }
}
