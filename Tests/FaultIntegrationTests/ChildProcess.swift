import Foundation

/// A process a fault test starts (`decnet-master serve`, `decnet-agent run`, a mount-namespace holder), with its
/// standard output and error in files of the test's directory, stopped at the latest when the object goes away.
///
/// `Process` is not `Sendable`; after `init` this class only asks it for `isRunning`, `processIdentifier` and
/// `terminationStatus`, which Foundation makes thread-safe, and signals go through `kill(2)` by pid. That is the
/// invariant behind `@unchecked Sendable`.
final class ChildProcess: @unchecked Sendable {
    let name: String
    let stdoutPath: String
    let stderrPath: String
    let pid: Int32
    private let process = Process()

    /// Starts `executable arguments...`; `environment` entries are added to (or replace) the test's own.
    init(
        name: String,
        executable: String,
        arguments: [String],
        environment: [String: String] = [:],
        logDirectory: String
    ) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw FaultTestError("\(executable) is missing: build with `swift build --build-tests`")
        }
        self.name = name
        let stamp = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        stdoutPath = "\(logDirectory)/\(name)-\(stamp).out"
        stderrPath = "\(logDirectory)/\(name)-\(stamp).err"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
        pid = process.processIdentifier
    }

    deinit {
        if process.isRunning { kill(pid, SIGKILL) }
    }

    var isRunning: Bool { process.isRunning }
    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// The last `count` characters of standard error, for failure messages.
    func stderrTail(_ count: Int = 1500) -> String { String(stderr.suffix(count)) }

    /// `kill -9`, then waits (bounded) until the process is gone.
    func kill9() async throws {
        sendKill()
        _ = try await exitStatus(within: 10)
    }

    /// `kill -9` from synchronous code (a progress callback): the signal only, no waiting.
    func sendKill() {
        if process.isRunning { kill(pid, SIGKILL) }
    }

    /// SIGTERM, then SIGKILL when the process has not ended within `seconds`; answers the exit status.
    @discardableResult
    func stop(within seconds: Double = 10) async -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(pid, SIGTERM)
        if let status = try? await exitStatus(within: seconds) { return status }
        kill(pid, SIGKILL)
        return (try? await exitStatus(within: 10)) ?? -1
    }

    /// The exit status once the process ends; throws when it is still running after `seconds`.
    func exitStatus(within seconds: Double) async throws -> Int32 {
        try await eventually("\(name) (pid \(pid)) to exit", within: seconds, every: .milliseconds(20)) {
            !process.isRunning
        }
        return process.terminationStatus
    }
}
