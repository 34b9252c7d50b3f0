import Foundation
import TestSupport

/// A small tmpfs mounted in a private mount namespace (`unshare -rm`, as the store's own disk-full tests do), so a
/// test can fill a file system or make it read-only without touching the host's mounts.
///
/// A holder process (`sleep`) keeps the namespace alive; agents run inside it through `nsenter` (which execs the
/// agent, so the pid is the agent's); the test reaches the tmpfs from outside through `/proc/<holder>/root`.
struct PrivateMount: Sendable {
    let holder: ChildProcess
    /// The mount point, the same path inside the namespace and on the host (where it is an empty directory).
    let path: String

    static var unshare: String? { findExecutable("unshare") }
    static var nsenter: String? { findExecutable("nsenter") }

    /// Whether this machine lets us make a private mount namespace with a tmpfs, or why not.
    static let unavailableReason: String? = {
        guard let unshare, nsenter != nil else { return "unshare or nsenter (util-linux) is not installed" }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: unshare)
        probe.arguments = ["-rm", "/bin/sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return "unshare cannot run" }
        probe.waitUntilExit()
        return probe.terminationStatus == 0 ? nil : "unshare -rm cannot mount a tmpfs here (no user namespaces?)"
    }()

    /// Mounts a tmpfs of `size` (e.g. `"6m"`) on `path` (created when missing) in a new namespace.
    static func make(at path: String, size: String, world: FaultWorld) async throws -> PrivateMount {
        guard let unshare else { throw FaultTestError("unshare is not installed") }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let holder = try ChildProcess(
            name: "mount-holder",
            executable: unshare,
            arguments: [
                "-rm", "/bin/sh", "-c", #"mount -t tmpfs -o size="$2" tmpfs "$1" && echo ready && exec sleep 3600"#,
                "sh", path, size,
            ],
            logDirectory: world.root
        )
        world.adopt(holder)
        try await eventually("the tmpfs in a private namespace", within: 10) {
            guard holder.isRunning else { throw FaultTestError("unshare failed: \(holder.stderrTail())") }
            return holder.stdout.contains("ready")
        }
        return PrivateMount(holder: holder, path: path)
    }

    /// The command prefix that runs a program inside the namespace.
    var wrapper: [String] {
        [Self.nsenter ?? "/usr/bin/nsenter", "-t", "\(holder.pid)", "-U", "-m", "--preserve-credentials", "--"]
    }

    /// A path inside the tmpfs, as the test (outside the namespace) reaches it.
    func outside(_ relative: String) -> String { "/proc/\(holder.pid)/root\(path)/\(relative)" }

    /// Fills the tmpfs with `filler` until the kernel says it is full; answers the bytes written.
    @discardableResult
    func fill() throws -> Int {
        let file = outside("filler")
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw FaultTestError("cannot create \(file): errno \(errno)") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0x5a, count: 64 * 1024)
        var total = 0
        while true {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written > 0 {
                total += written
                continue
            }
            if written < 0 && errno == EINTR { continue }
            guard written < 0 && errno == ENOSPC else {
                throw FaultTestError("filling the tmpfs stopped with errno \(errno) after \(total) bytes")
            }
            return total
        }
    }

    /// Removes the filler.
    func free() throws {
        try FileManager.default.removeItem(atPath: outside("filler"))
    }

    /// `mount -o remount,ro|rw` inside the namespace; answers the exit status and mount's message.
    func remount(readOnly: Bool) throws -> (status: Int32, message: String) {
        let result = try ProcessRunner.runMerged(
            wrapper[0],
            Array(wrapper.dropFirst()) + ["mount", "-o", readOnly ? "remount,ro" : "remount,rw", path]
        )
        return (result.status, result.output)
    }
}
