import DockerEngine
import Foundation

/// A `dockerd` of the test's own, which the test may stop and start at will: its socket, data root, exec root
/// (with its own managed containerd) and pidfile live in one temporary folder, and it runs with `--bridge=none
/// --iptables=false --ip-masq=false`, so it neither touches the shared daemon nor the host's firewall rules.
actor PrivateDockerDaemon {
    /// Short on purpose: containerd's socket lives under the exec root and a unix socket path has 107 bytes at most.
    let root: String
    private var process: Process?
    private var starts = 0

    init() throws {
        root = "/tmp/dno-" + String(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(8))
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    nonisolated var socketPath: String { root + "/docker.sock" }
    nonisolated var logPath: String { root + "/dockerd.log" }

    /// Whether the daemon process is running (it may not answer yet).
    var isRunning: Bool { process?.isRunning ?? false }

    /// Starts the daemon and waits until it answers `/_ping`; throws with the end of its log when it exits or does
    /// not answer within `timeout`.
    func start(timeout: Duration = .seconds(30)) async throws {
        guard !isRunning else { return }
        guard let dockerd = Self.dockerd else { throw DaemonError("no dockerd executable on this host") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: dockerd)
        process.arguments = [
            "-H", "unix://" + socketPath, "--data-root", root + "/data", "--exec-root", root + "/x",
            "--pidfile", root + "/dockerd.pid", "--bridge=none", "--iptables=false", "--ip-masq=false",
        ]
        if !FileManager.default.fileExists(atPath: logPath) {
            FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()
        self.process = process
        starts += 1
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                throw DaemonError("dockerd exited with status \(process.terminationStatus): \(logTail())")
            }
            if await answers() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DaemonError("dockerd did not answer on \(socketPath) within \(timeout): \(logTail())")
    }

    /// Stops the daemon with SIGTERM (it stops its containers and its containerd), SIGKILL after `timeout`.
    func stop(timeout: Duration = .seconds(30)) async {
        guard let process, process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Copies an image from the shared daemon (`docker save | docker -H <ours> load`).
    func load(image: String) throws {
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/bash")
        shell.arguments = [
            "-c", "set -o pipefail; docker save \"$1\" | docker -H \"unix://$2\" load", "load", image,
            socketPath,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = (environment["PATH"] ?? "") + ":/usr/local/bin:/usr/bin:/bin"
        shell.environment = environment
        let pipe = Pipe()
        shell.standardOutput = pipe
        shell.standardError = pipe
        try shell.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shell.waitUntilExit()
        guard shell.terminationStatus == 0 else {
            throw DaemonError("cannot copy \(image) from the shared daemon into ours: \(output)")
        }
    }

    /// Stops the daemon, unmounts anything left below the folder, and removes it.
    func destroy() async {
        await stop()
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 1, fields[1].hasPrefix(root + "/") {
                umount2(String(fields[1]), Int32(MNT_DETACH))
            }
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Whether the daemon answers `/_ping` within a second.
    func answers() async -> Bool {
        let client = DockerClient(
            configuration: .init(socketPath: socketPath, connectTimeout: .seconds(1), readTimeout: .seconds(1)))
        let answered = (try? await client.ping()) ?? false
        try? await client.shutdown()
        return answered
    }

    func logTail() -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(15).joined(separator: "\n")
    }

    static var dockerd: String? {
        ["/usr/sbin/dockerd", "/usr/bin/dockerd", "/usr/local/bin/dockerd"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }
}

struct DaemonError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
