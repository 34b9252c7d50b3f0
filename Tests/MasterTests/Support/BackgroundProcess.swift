import Foundation
import TestSupport

/// A `decnet-master` process whose output goes to files, waited for by polling (no thread of the cooperative pool
/// blocks). `Process` is not `Sendable`; after `init` it is only asked `isRunning`, `terminationStatus`,
/// `processIdentifier` and `terminate()`, which Foundation makes thread-safe.
final class BackgroundProcess: @unchecked Sendable {
    private let process = Process()
    private let directory: TemporaryDirectory

    static let master = ProcessRunner.executable("decnet-master")

    init(_ arguments: [String], executable: String = BackgroundProcess.master) throws {
        directory = try TemporaryDirectory("master-cli-out")
        _ = FileManager.default.createFile(atPath: directory.file("stdout"), contents: nil)
        _ = FileManager.default.createFile(atPath: directory.file("stderr"), contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: directory.file("stdout"))
        process.standardError = FileHandle(forWritingAtPath: directory.file("stderr"))
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
        directory.remove()
    }

    var stdout: String { (try? String(contentsOfFile: directory.file("stdout"), encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: directory.file("stderr"), encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// The exit status within `seconds` (the process is killed and the wait fails after that).
    func exitStatus(seconds: Double = 60) async throws -> Int32 {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                process.terminate()
                throw TimedOut(what: "decnet-master \(process.arguments ?? []) to exit; stderr: \(stderr)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }
}
