import Foundation

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
