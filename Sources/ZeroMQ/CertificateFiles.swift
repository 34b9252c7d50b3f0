#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small POSIX file helpers for certificates: bounded reads, and writes that create the file with its final mode
/// under a temporary name and rename it into place.
enum CertificateFiles {
    /// Certificates are a few hundred bytes; anything larger is not one.
    static let maximumSize = 64 * 1024

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    static func read(path: String) throws(ZMQError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw systemError("open \(path)") }
        defer { _ = close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw systemError("read \(path)")
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            guard bytes.count <= maximumSize else {
                throw ZMQError(.invalidCertificate, operation: "read \(path)", message: "larger than a certificate")
            }
        }
    }

    /// Writes `text` to `path` through `path.tmp.<pid>.<random>`, created exclusively with `mode` (so a secret is never
    /// readable by others, not even for a moment), flushed and renamed over `path`.
    static func write(path: String, text: String, mode: mode_t) throws(ZMQError) {
        let temporary = "\(path).tmp.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw systemError("create \(temporary)") }
        var failure: ZMQError?
        // The umask may have narrowed the mode: set exactly the mode asked for (never wider than `mode`).
        if fchmod(fd, mode) != 0 { failure = systemError("fchmod \(temporary)") }
        var bytes = Array(text.utf8)
        var offset = 0
        while failure == nil && offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = systemError("write \(temporary)")
            } else {
                offset += written
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = systemError("fsync \(temporary)") }
        bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
        _ = close(fd)
        if failure == nil && rename(temporary, path) != 0 { failure = systemError("rename \(temporary) to \(path)") }
        if let failure {
            _ = unlink(temporary)
            throw failure
        }
    }

    static func systemError(_ operation: String) -> ZMQError {
        let number = errno
        return ZMQError(.io, operation: operation, message: String(cString: strerror(number)), errno: number)
    }
}
