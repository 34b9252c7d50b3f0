import Foundation
import LiveTestSupport
import TestSupport

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
    static func run(
        _ arguments: [String],
        timeout: Double = 30,
        environment: [String: String]? = nil
    ) async throws
        -> CommandOutput
    {
        let process = try BackgroundProcess(command: arguments, environment: environment)
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                process.signal(SIGKILL)
                throw ShellFailure(description: "\(arguments.joined(separator: " ")) took longer than \(timeout) s")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        return CommandOutput(status: process.terminationStatus, stdout: process.stdout, stderr: process.stderr)
    }

    /// ``run(_:timeout:environment:)`` that throws unless the command exits 0.
    @discardableResult
    static func check(_ arguments: [String], timeout: Double = 30) async throws -> CommandOutput {
        let output = try await run(arguments, timeout: timeout)
        guard output.status == 0 else {
            throw ShellFailure(
                description: "\(arguments.joined(separator: " ")) exited \(output.status): \(output.stderr)"
            )
        }
        return output
    }

    /// TestSupport's `eventually(within:every:_:)` polling every 200 ms: each look here usually runs a command.
    static func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
        try await TestSupport.eventually(within: seconds, every: .milliseconds(200), condition)
    }
}
