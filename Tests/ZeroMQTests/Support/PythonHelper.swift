import Foundation
import TestSupport

/// Runs `tests/python/zmq_certs_helper.py` (pyzmq) for the interop tests. pyzmq is installed by `scripts/test.sh`;
/// when it is missing the tests fail with that message rather than skip.
enum PythonHelper {
    static let script: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // ZeroMQTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("tests/python/zmq_certs_helper.py").path

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs the helper to completion (at most `seconds`) and returns its standard output; throws on a non-zero exit.
    static func run(_ arguments: [String], seconds: Double = 60) async throws -> String {
        let process = try RunningHelper(arguments)
        let status = try await process.waitForExit(seconds: seconds)
        guard status == 0 else {
            throw Failure(
                description: "zmq_certs_helper.py \(arguments.first ?? "") exited \(status): \(process.errorText)")
        }
        return process.outputText
    }

    /// The JSON object the helper printed.
    static func json(_ arguments: [String]) async throws -> [String: String?] {
        let output = try await run(arguments)
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] ?? [:]
        return object.mapValues { $0 as? String }
    }
}

/// A helper process whose standard output and error go to files, read as they grow. `Process` is not `Sendable`;
/// after `init` it is only asked `isRunning`, `terminationStatus` and `terminate()`, which Foundation makes
/// thread-safe.
final class RunningHelper: @unchecked Sendable {
    private let process = Process()
    private let directory: TemporaryDirectory

    init(_ arguments: [String]) throws {
        directory = try TemporaryDirectory("zmq-python")
        _ = FileManager.default.createFile(atPath: directory.file("stdout"), contents: nil)
        _ = FileManager.default.createFile(atPath: directory.file("stderr"), contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", PythonHelper.script] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: directory.file("stdout"))
        process.standardError = FileHandle(forWritingAtPath: directory.file("stderr"))
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
        directory.remove()
    }

    var outputText: String { (try? String(contentsOfFile: directory.file("stdout"), encoding: .utf8)) ?? "" }
    var errorText: String { (try? String(contentsOfFile: directory.file("stderr"), encoding: .utf8)) ?? "" }

    /// The first complete line of standard output, within `seconds`.
    func firstLine(seconds: Double = 30) async throws -> String {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            let text = outputText
            if let newline = text.firstIndex(of: "\n") { return String(text[..<newline]) }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw PythonHelper.Failure(description: "no output line from the helper; stderr: \(errorText)")
    }

    /// Waits for the exit status (polling; the helper is killed after `seconds`).
    func waitForExit(seconds: Double) async throws -> Int32 {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                process.terminate()
                throw PythonHelper.Failure(
                    description: "the helper did not finish in \(seconds) s; stderr: \(errorText)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }
}
