#if canImport(Glibc)
import Glibc
#endif

/// The agent's resident memory, read from and given back through `/proc/self` (Linux).
///
/// Most of an idle agent's resident set is code: the pages of the binary and of its shared libraries that ran once,
/// at start-up or during an apply, mapped 64 KiB at a time by the kernel's fault-around. They are clean copies of
/// files the page cache holds anyway, so the agent can drop them from its page tables when it goes idle
/// (``releaseCleanFilePages()``); whatever runs next maps its pages again with a minor fault, no disk read.
public enum ResidentMemory {
    /// One mapping of `/proc/self/smaps`.
    struct Mapping {
        var start: UInt
        var end: UInt
        var permissions: Substring
        var inode: Substring
        var path: Substring
        var resident = 0
        var anonymous: Int?

        /// A private, read-only mapping of a file, none of whose pages was ever written (copied on write): its pages
        /// are exactly the file's, so dropping them loses nothing. Relocated data (RELRO) has anonymous pages and is
        /// never touched.
        var isCleanFileMapping: Bool {
            permissions.count == 4 && permissions.first == "r" && permissions.dropFirst().first == "-"
                && permissions.last == "p" && inode != "0" && path.hasPrefix("/") && anonymous == 0
        }
    }

    /// Drops the clean file-backed pages (code, read-only data) of every mapping that has only such pages, with
    /// `madvise(MADV_DONTNEED)`, and lets malloc return its free pages (`malloc_trim`); returns how many KiB of file
    /// pages were resident. Anonymous memory and written pages are never dropped. Returns 0 where
    /// `/proc/self/smaps` cannot be read.
    @discardableResult
    public static func releaseCleanFilePages() -> Int {
        if let trim = mallocTrim { _ = trim(0) }
        var released = 0
        for mapping in mappings() where mapping.isCleanFileMapping && mapping.resident > 0 {
            guard let address = UnsafeMutableRawPointer(bitPattern: mapping.start) else { continue }
            if madvise(address, Int(mapping.end - mapping.start), MADV_DONTNEED) == 0 { released += mapping.resident }
        }
        return released
    }

    /// `VmRSS` and `VmHWM` of this process in KiB, from `/proc/self/status`; `nil` when they cannot be read.
    public static func status() -> (residentKiB: Int, peakKiB: Int)? {
        guard let text = read("/proc/self/status") else { return nil }
        var rss: Int?
        var hwm: Int?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("VmRSS:") { rss = kibValue(line) }
            if line.hasPrefix("VmHWM:") { hwm = kibValue(line) }
        }
        guard let rss, let hwm else { return nil }
        return (rss, hwm)
    }

    /// glibc's `malloc_trim`, which Swift's Glibc module does not declare.
    static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()

    static func mappings() -> [Mapping] {
        guard let text = read("/proc/self/smaps") else { return [] }
        var result: [Mapping] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            if fields.count >= 5, let first = fields.first, !first.hasSuffix(":"), let dash = first.firstIndex(of: "-"),
                let start = UInt(first[..<dash], radix: 16),
                let end = UInt(first[first.index(after: dash)...], radix: 16)
            {
                let path = fields.count > 5 ? fields[5].drop { $0 == " " } : ""
                result.append(Mapping(start: start, end: end, permissions: fields[1], inode: fields[4], path: path))
            } else if line.hasPrefix("Rss:"), !result.isEmpty {
                result[result.count - 1].resident = kibValue(line) ?? 0
            } else if line.hasPrefix("Anonymous:"), !result.isEmpty {
                result[result.count - 1].anonymous = kibValue(line)
            }
        }
        return result
    }

    static func kibValue(_ line: Substring) -> Int? {
        line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }

    /// The whole of a `/proc` file (their size is 0 in `stat`, so read to the end).
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
