import Foundation
import TestSupport

/// A child process left running while the test goes on: standard output and error go to files in a temporary
/// directory, read as they grow, and every wait polls, so no thread of the cooperative pool blocks and a long output
/// cannot dead-lock the child. Killed (SIGKILL) and its files removed at the latest when the object goes away. For a
/// command that simply runs to completion, ``ProcessRunner/run(_:_:stdin:environment:)`` is simpler.
///
/// `Process` is not `Sendable`; after `init` this class only asks it for `isRunning`, `terminationStatus` and
/// `processIdentifier`, which Foundation makes thread-safe, and signals go through `kill(2)` by pid. That is the
/// invariant behind `@unchecked Sendable`.
public final class BackgroundProcess: @unchecked Sendable {
    private let process = Process()
    private let directory: TemporaryDirectory
    /// The executable and its arguments, for messages.
    public let commandLine: String

    /// Starts `executable arguments...`; `environment`, when given, replaces the test's own.
    public init(executable: String, arguments: [String], environment: [String: String]? = nil) throws {
        directory = try TemporaryDirectory("process-output")
        commandLine = ([executable] + arguments).joined(separator: " ")
        _ = FileManager.default.createFile(atPath: directory.file("stdout"), contents: nil)
        _ = FileManager.default.createFile(atPath: directory.file("stderr"), contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: directory.file("stdout"))
        process.standardError = FileHandle(forWritingAtPath: directory.file("stderr"))
        try process.run()
    }

    /// Starts `command` through `/usr/bin/env`, which finds its first word on `PATH`.
    public convenience init(command: [String], environment: [String: String]? = nil) throws {
        try self.init(executable: "/usr/bin/env", arguments: command, environment: environment)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        directory.remove()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    /// The exit status; meaningful once ``isRunning`` is false.
    public var terminationStatus: Int32 { process.terminationStatus }
    /// Standard output so far.
    public var stdout: String { (try? String(contentsOfFile: directory.file("stdout"), encoding: .utf8)) ?? "" }
    /// Standard error so far.
    public var stderr: String { (try? String(contentsOfFile: directory.file("stderr"), encoding: .utf8)) ?? "" }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// The first complete line of standard output within `seconds` (a server saying where it listens); throws when
    /// the time runs out or the process ends without one.
    public func firstLine(seconds: Double = 30) async throws -> String {
        var line: String?
        _ = await eventually(within: seconds, every: .milliseconds(10)) {
            let text = stdout
            if let newline = text.firstIndex(of: "\n") { line = String(text[..<newline]) }
            return line != nil || !isRunning
        }
        guard let line else { throw TimedOut(what: "a line of output from \(commandLine); stderr: \(stderr)") }
        return line
    }

    /// The exit status within `seconds`; after that the process is sent SIGTERM and the wait fails.
    public func exitStatus(seconds: Double = 60) async throws -> Int32 {
        guard await eventually(within: seconds, every: .milliseconds(10), { !isRunning }) else {
            signal(SIGTERM)
            throw TimedOut(what: "\(commandLine) to exit within \(seconds) s; stderr: \(stderr)")
        }
        return process.terminationStatus
    }

    /// SIGTERM, up to `seconds` to exit, then SIGKILL. Returns the exit status (or -1 when it had to be killed).
    @discardableResult
    public func stop(seconds: Double = 10) async -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        signal(SIGTERM)
        if await eventually(within: seconds, every: .milliseconds(20), { !isRunning }) {
            return process.terminationStatus
        }
        signal(SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        return -1
    }
}
