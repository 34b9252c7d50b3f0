import Foundation

/// Whole-file writes that readers never see half done: the bytes go to `PATH.tmp.<pid>.<random>` (created
/// exclusively, with the final mode), are flushed, and the temporary file is renamed over `PATH`
/// (docs/security.md#enrolment: the serving master and the operator's CLI share these files).
enum AtomicFile {
    /// Writes `bytes` to `path` with `mode`; throws ``MasterError/Code/io`` and leaves no temporary file behind.
    static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws(MasterError) {
        let temporary = "\(path).tmp.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw failure("create \(temporary)") }
        var problem: MasterError?
        if fchmod(fd, mode) != 0 { problem = failure("fchmod \(temporary)") }
        var offset = 0
        while problem == nil && offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                problem = failure("write \(temporary)")
            } else {
                offset += written
            }
        }
        if problem == nil && fsync(fd) != 0 { problem = failure("fsync \(temporary)") }
        _ = close(fd)
        if problem == nil && rename(temporary, path) != 0 { problem = failure("rename \(temporary) to \(path)") }
        if let problem {
            _ = unlink(temporary)
            throw problem
        }
    }

    /// The file's bytes, or `nil` when it does not exist or cannot be read; at most `limit` bytes are accepted.
    static func read(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { _ = close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { return bytes }
            bytes += buffer[0..<count]
            if bytes.count > limit { return nil }
        }
    }

    /// Names in `directory` (no `.` or `..`), or `nil` when it cannot be listed.
    static func names(in directory: String) -> [String]? {
        try? FileManager.default.contentsOfDirectory(atPath: directory)
    }

    private static func failure(_ operation: String) -> MasterError {
        let number = errno
        return MasterError(.io, operation: operation, message: String(cString: strerror(number)))
    }
}
