import Foundation

/// Runs a program to completion and captures its output; finds the package's executables (built next to the test
/// bundle). A process a test leaves running is a `BackgroundProcess` (LiveTestSupport).
public enum ProcessRunner {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: String
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// The folder holding the built products (`.build/<triple>/debug`).
    public static var productsDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    public static func executable(_ name: String) -> String {
        productsDirectory.appendingPathComponent(name).path
    }

    public static func run(
        _ executable: String,
        _ arguments: [String],
        stdin: Data? = nil,
        environment: [String: String]? = nil
    ) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        // Both pipes are read while the input is written, so neither a large input nor a large output can stall
        // the child.
        let errData = Locked(Data())
        let outData = Locked(Data())
        let readers = [
            Thread { errData.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() } },
            Thread { outData.withLock { $0 = out.fileHandleForReading.readDataToEndOfFile() } },
        ]
        for reader in readers { reader.start() }
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        while readers.contains(where: { !$0.isFinished }) { usleep(1000) }
        return Output(
            status: process.terminationStatus,
            stdout: outData.value,
            stderr: String(decoding: errData.value, as: UTF8.self)
        )
    }

    /// Runs `executable` to completion with standard output and error in one pipe, interleaved as written (a
    /// shell's `2>&1`), and returns its exit status and that text.
    public static func runMerged(
        _ executable: String,
        _ arguments: [String]
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
