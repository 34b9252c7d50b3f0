import DecnetJSON
import Foundation

/// Runs `store-crash-helper` (built next to the test binary) and reads its JSON lines with a deadline.
final class HelperProcess {
    /// The helper binary: SwiftPM puts every product of the package in the test binary's directory.
    static var executable: String {
        let me =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: me).deletingLastPathComponent()
        // The Linux test runner sits inside `<package>PackageTests.xctest` on some toolchains.
        if directory.lastPathComponent.hasSuffix(".xctest") { directory.deleteLastPathComponent() }
        return directory.appendingPathComponent("store-crash-helper").path
    }

    let process = Process()
    private let output = Pipe()
    private var buffer: [UInt8] = []
    private var ended = false

    /// Starts `executable arguments...`; the helper itself unless another executable is given.
    init(_ arguments: [String], executable: String = HelperProcess.executable) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw TestSetupError("\(executable) is missing: build with `swift build --build-tests`")
        }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
    }

    /// The next complete line, or `nil` at end of output or when `timeout` seconds pass first.
    func readLine(timeout: Double = 20) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            if ended { return nil }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return nil }
            var poller = pollfd(fd: output.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(min(remaining, 1) * 1000)) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = read(poller.fd, &chunk, chunk.count)
            if count <= 0 { ended = true } else { buffer.append(contentsOf: chunk[..<count]) }
        }
    }

    /// Every remaining complete line until the helper's output ends (a partial last line is dropped).
    func remainingLines(timeout: Double = 20) -> [String] {
        var lines: [String] = []
        while let line = readLine(timeout: timeout) { lines.append(line) }
        return lines
    }

    /// The next line parsed as JSON.
    func readJSON(timeout: Double = 20) throws -> JSONValue {
        guard let line = readLine(timeout: timeout) else { throw TestSetupError("the helper printed nothing") }
        return try JSONParser.parse(line)
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Waits for a helper that ends by itself.
    @discardableResult
    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// Whether this machine lets us make a private mount namespace with a tmpfs (`unshare -rm`), for the disk-full and
/// read-only file-system tests.
let privateMountsAvailable: Bool = {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"),
        let dir = try? TemporaryDirectory()
    else { return false }
    defer { dir.remove() }
    guard
        let probe = try? HelperProcess(
            ["-rm", "/bin/sh", "-c", "mount -t tmpfs -o size=64k tmpfs \"$1\"", "sh", dir.path],
            executable: "/usr/bin/unshare"
        )
    else { return false }
    return probe.wait() == 0
}()
