import Foundation
import Synchronization

/// A bounded wait ran out, or a command failed.
struct ShellFailure: Error, CustomStringConvertible {
    let description: String
}

/// What a finished command printed.
struct CommandOutput: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs system commands (`ip`, `iptables`, the package's executables) with their output in files and the wait done
/// by polling, so no thread of the cooperative pool blocks and a long output cannot dead-lock the child.
enum Shell {
    /// Runs `arguments` (looked up on PATH) and returns its output; kills it and throws after `timeout` seconds.
    static func run(_ arguments: [String], timeout: Double = 30, environment: [String: String]? = nil) async throws
        -> CommandOutput
    {
        let process = try BackgroundProcess(arguments, environment: environment)
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                process.signal(SIGKILL)
                throw ShellFailure(description: "\(arguments.joined(separator: " ")) took longer than \(timeout) s")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        defer { process.removeFiles() }
        return CommandOutput(status: process.terminationStatus, stdout: process.stdout, stderr: process.stderr)
    }

    /// ``run(_:timeout:environment:)`` that throws unless the command exits 0.
    @discardableResult
    static func check(_ arguments: [String], timeout: Double = 30) async throws -> CommandOutput {
        let output = try await run(arguments, timeout: timeout)
        guard output.status == 0 else {
            throw ShellFailure(
                description: "\(arguments.joined(separator: " ")) exited \(output.status): \(output.stderr)")
        }
        return output
    }

    /// Polls `condition` every 200 ms until it holds; false when `seconds` ran out.
    static func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return try await condition()
    }
}

/// A child process whose standard output and error go to files. `Process` is not `Sendable`; after `init` it is
/// only asked `isRunning`, `terminationStatus` and `processIdentifier`, which Foundation makes thread-safe.
final class BackgroundProcess: @unchecked Sendable {
    private let process = Process()
    let outputPath: String
    let errorPath: String

    init(_ arguments: [String], environment: [String: String]? = nil) throws {
        let base = NSTemporaryDirectory() + "netfault-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        outputPath = base + ".out"
        errorPath = base + ".err"
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: outputPath)
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var terminationStatus: Int32 { process.terminationStatus }
    var stdout: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// SIGTERM, up to `seconds` to exit, then SIGKILL. Returns the exit status (or -1 when it had to be killed).
    @discardableResult
    func stop(seconds: Double = 10) async -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        signal(SIGTERM)
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        guard !process.isRunning else {
            signal(SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
            return -1
        }
        return process.terminationStatus
    }

    func removeFiles() {
        try? FileManager.default.removeItem(atPath: outputPath)
        try? FileManager.default.removeItem(atPath: errorPath)
    }
}
