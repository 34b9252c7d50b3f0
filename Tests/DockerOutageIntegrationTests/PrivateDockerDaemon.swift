import DockerEngine
import Foundation
import Synchronization

/// A `dockerd` of the test's own, which the test may stop and start at will: its socket, data root, exec root
/// (with its own managed containerd) and pidfile live in one temporary folder, and it runs in its own network
/// namespace with `--bridge=none --iptables=false --ip-masq=false`, so it touches neither the shared daemon's
/// interfaces nor the host's firewall rules.
actor PrivateDockerDaemon {
    /// Short on purpose: containerd's socket lives under the exec root and a unix socket path has 107 bytes at most.
    let root: String
    private var process: Process?
    /// The running daemon's process id (0 when none), for ``stopNow()`` from synchronous code.
    private let pid = Mutex<pid_t>(0)

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
        // In a network namespace of its own: with `--bridge=none` dockerd deletes the host's `docker0` at start-up,
        // which would break the shared daemon's default bridge (image builds need it). `unshare -n` execs dockerd in
        // place, so the process id is dockerd's; its unix socket is a file and reachable from here.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = [
            "--net", "--", dockerd, "-H", "unix://" + socketPath, "--data-root", root + "/data",
            "--exec-root", root + "/x", "--pidfile", root + "/dockerd.pid", "--bridge=none", "--iptables=false",
            "--ip-masq=false",
        ]
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()
        self.process = process
        pid.withLock { $0 = process.processIdentifier }
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
            // Bounded even then: a daemon stuck in the kernel must fail the test, not hang the whole run.
            kill(process.processIdentifier, SIGKILL)
            let killed = ContinuousClock.now + .seconds(30)
            while process.isRunning && ContinuousClock.now < killed { try? await Task.sleep(for: .milliseconds(50)) }
        }
    }

    /// Stops the daemon like ``stop(timeout:)`` but blocking the calling thread, for a synchronous progress
    /// callback: when it returns the daemon has exited, so the apply that called it meets a daemon that is gone.
    nonisolated func stopNow(timeout: Duration = .seconds(30)) {
        let target = pid.withLock { $0 }
        guard target > 0 else { return }
        kill(target, SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while Self.alive(target) && ContinuousClock.now < deadline { usleep(20_000) }
        if Self.alive(target) { kill(target, SIGKILL) }
        let killed = ContinuousClock.now + .seconds(30)
        while Self.alive(target) && ContinuousClock.now < killed { usleep(20_000) }
    }

    /// Whether `pid` is a process that has not exited (a zombie waiting to be reaped has).
    nonisolated static func alive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return false }
        return !stat[close...].hasPrefix(") Z")
    }

    /// Copies an image from the shared daemon (`docker save | docker -H <ours> load`).
    func load(image: String) throws {
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/bash")
        shell.arguments = [
            // Bounded: a daemon that never finishes the load fails the test instead of hanging the run.
            "-c", "set -o pipefail; timeout 120 docker save \"$1\" | timeout 120 docker -H \"unix://$2\" load", "load",
            image,
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
            configuration: .init(socketPath: socketPath, connectTimeout: .seconds(1), readTimeout: .seconds(1))
        )
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
