#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Unbuffered reads and writes on the standard streams (file descriptors 0, 1 and 2), as `FileHandle` did them: the
/// agent does not link Foundation, whose `FileHandle` loads libFoundation and ICU (about 6 MiB resident).
public enum StandardStream {
    /// Writes all of `bytes` to standard output at once, bypassing stdio's buffer.
    public static func writeOutput(_ bytes: [UInt8]) { write(bytes, to: STDOUT_FILENO) }

    /// Writes all of `text` to standard output.
    public static func writeOutput(_ text: String) { write(Array(text.utf8), to: STDOUT_FILENO) }

    /// Writes all of `bytes` to standard error at once.
    public static func writeError(_ bytes: [UInt8]) { write(bytes, to: STDERR_FILENO) }

    /// Writes all of `text` to standard error.
    public static func writeError(_ text: String) { write(Array(text.utf8), to: STDERR_FILENO) }

    /// Everything on standard input up to its end; what was read before an error when reading fails.
    public static func readInput() -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return bytes }
            bytes += chunk[0..<count]
        }
    }

    /// Writes until every byte is out, retrying on `EINTR` and short writes; gives up silently on any other error (a
    /// closed pipe), as there is nowhere left to report it.
    static func write(_ bytes: [UInt8], to descriptor: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    private static func systemWrite(_ descriptor: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(descriptor, pointer, count)
        #else
        Darwin.write(descriptor, pointer, count)
        #endif
    }
}
