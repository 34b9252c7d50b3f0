/// Writes a POSIX ustar archive in memory: what `POST /build` takes as its context.
///
/// Holds regular files, directories and symbolic links, owned by root. Paths longer than 100 bytes are split into
/// the ustar `prefix` (up to 155 bytes) and `name` at a `/`; a path that cannot be split that way is refused with
/// `invalidContext` rather than written in a GNU or pax extension.
public struct TarWriter: Sendable {
    public static let blockSize = 512

    /// The archive so far, without the end-of-archive marker; see ``finished()``.
    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// Adds a directory entry (its name gets a trailing `/`).
    public mutating func addDirectory(
        _ path: String,
        mode: Int = 0o755,
        modificationTime: Int = 0
    )
        throws(DockerError)
    {
        let name = try Self.checked(path)
        try appendHeader(path: name + "/", mode: mode, size: 0, modificationTime: modificationTime, type: "5")
    }

    /// Adds a regular file with its contents.
    public mutating func addFile(
        _ path: String,
        contents: [UInt8],
        mode: Int = 0o644,
        modificationTime: Int = 0
    )
        throws(DockerError)
    {
        let name = try Self.checked(path)
        try appendHeader(path: name, mode: mode, size: contents.count, modificationTime: modificationTime, type: "0")
        bytes.append(contentsOf: contents)
        bytes.append(contentsOf: repeatElement(0, count: Self.padding(contents.count)))
    }

    /// Adds a symbolic link to `target` (at most 100 bytes, stored as is).
    public mutating func addSymbolicLink(
        _ path: String,
        target: String,
        modificationTime: Int = 0
    )
        throws(DockerError)
    {
        let name = try Self.checked(path)
        guard target.utf8.count <= 100, !target.utf8.contains(0) else {
            throw Self.error("the link target of \(path) is longer than 100 bytes")
        }
        try appendHeader(
            path: name,
            mode: 0o777,
            size: 0,
            modificationTime: modificationTime,
            type: "2",
            linkName: target
        )
    }

    /// The complete archive: the entries followed by two zero blocks.
    public func finished() -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: 2 * Self.blockSize)
    }

    /// Splits a path into ustar's `prefix` and `name` fields: the whole path as name when it fits in 100 bytes,
    /// else the shortest tail after a `/` that fits, as long as the head fits in 155 bytes.
    public static func splitPath(_ path: String) throws(DockerError) -> (prefix: [UInt8], name: [UInt8]) {
        let utf8 = Array(path.utf8)
        if utf8.count <= 100 { return ([], utf8) }
        // A trailing slash (directories) belongs to the name, so never split there.
        for index in utf8.indices where utf8[index] == UInt8(ascii: "/") && index < utf8.count - 1 {
            let name = utf8[(index + 1)...]
            guard name.count <= 100 else { continue }
            guard index <= 155 else { break }
            return (Array(utf8[..<index]), Array(name))
        }
        throw error("the path \(path) (\(utf8.count) bytes) does not fit the ustar name and prefix fields")
    }

    /// Refuses paths a build context must not contain: empty, absolute, with `..`, or with a NUL byte.
    static func checked(_ path: String) throws(DockerError) -> String {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        guard !components.isEmpty, !path.hasPrefix("/"), !path.utf8.contains(0),
            !components.contains(where: { $0 == ".." || $0 == "." })
        else {
            throw error("\"\(path)\" is not a plain relative path")
        }
        return components.joined(separator: "/")
    }

    private mutating func appendHeader(
        path: String,
        mode: Int,
        size: Int,
        modificationTime: Int,
        type: Character,
        linkName: String = ""
    ) throws(DockerError) {
        let (prefix, name) = try Self.splitPath(path)
        guard size < 0o777_7777_7777 + 1 else { throw Self.error("\(path) is too large for a ustar archive") }
        var header = [UInt8](repeating: 0, count: Self.blockSize)
        func put(_ field: [UInt8], at offset: Int) {
            header.replaceSubrange(offset..<(offset + field.count), with: field)
        }
        put(name, at: 0)
        put(Self.octal(mode & 0o7777, width: 8), at: 100)
        put(Self.octal(0, width: 8), at: 108)
        put(Self.octal(0, width: 8), at: 116)
        put(Self.octal(size, width: 12), at: 124)
        put(Self.octal(max(0, min(modificationTime, 0o777_7777_7777)), width: 12), at: 136)
        put([UInt8](repeating: UInt8(ascii: " "), count: 8), at: 148)
        header[156] = type.asciiValue!
        put(Array(linkName.utf8), at: 157)
        put(Array("ustar\0".utf8), at: 257)
        put(Array("00".utf8), at: 263)
        put(Array("root".utf8), at: 265)
        put(Array("root".utf8), at: 297)
        put(Self.octal(0, width: 8), at: 329)
        put(Self.octal(0, width: 8), at: 337)
        put(prefix, at: 345)
        let checksum = header.reduce(0) { $0 + Int($1) }
        // Six octal digits, NUL, space: the layout every tar reads.
        put(Self.octal(checksum, width: 7) + [UInt8(ascii: " ")], at: 148)
        bytes.append(contentsOf: header)
    }

    /// `value` in octal, zero-padded to `width - 1` digits and NUL-terminated.
    static func octal(_ value: Int, width: Int) -> [UInt8] {
        let digits = Array(String(value, radix: 8).utf8)
        return [UInt8](repeating: UInt8(ascii: "0"), count: max(0, width - 1 - digits.count)) + digits + [0]
    }

    static func padding(_ size: Int) -> Int {
        (blockSize - size % blockSize) % blockSize
    }

    static func error(_ message: String) -> DockerError {
        DockerError(.invalidContext, operation: "archive build context", message: message)
    }
}
