import Foundation
import LiveTestSupport
import TestSupport

/// Runs `interop/zmq_certs_helper.py` (pyzmq) for the interop tests. pyzmq is installed by `scripts/test.sh`;
/// when it is missing the tests fail with that message rather than skip.
enum PythonHelper {
    static let script: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // ZeroMQTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("interop/zmq_certs_helper.py").path

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts the helper with `arguments` (`client ...`, `server ...`) and leaves it running.
    static func start(_ arguments: [String]) throws -> BackgroundProcess {
        try BackgroundProcess(command: ["python3", script] + arguments)
    }

    /// Runs the helper to completion (at most `seconds`) and returns its standard output; throws on a non-zero exit.
    static func run(_ arguments: [String], seconds: Double = 60) async throws -> String {
        let process = try start(arguments)
        let status = try await process.exitStatus(seconds: seconds)
        guard status == 0 else {
            throw Failure(
                description: "zmq_certs_helper.py \(arguments.first ?? "") exited \(status): \(process.stderr)"
            )
        }
        return process.stdout
    }

    /// The JSON object the helper printed.
    static func json(_ arguments: [String]) async throws -> [String: String?] {
        let output = try await run(arguments)
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] ?? [:]
        return object.mapValues { $0 as? String }
    }
}
