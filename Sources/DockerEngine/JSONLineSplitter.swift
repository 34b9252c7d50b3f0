/// Cuts a byte stream of newline-delimited JSON (the events and build streams) into whole lines, however the bytes
/// were split into chunks on the way.
///
/// Lines end at `\n`; a trailing `\r` and surrounding blanks are dropped, and blank lines are skipped. A line longer
/// than `maximumLineLength` without a newline is a protocol error rather than unbounded memory.
public struct JSONLineSplitter: Sendable {
    public let maximumLineLength: Int
    private var pending: [UInt8] = []

    public init(maximumLineLength: Int = 16 << 20) {
        self.maximumLineLength = maximumLineLength
    }

    /// Bytes held back waiting for their newline.
    public var bufferedByteCount: Int { pending.count }

    /// Feeds a chunk and returns every line it completed, in order.
    public mutating func append<C: Collection>(_ chunk: C) throws(DockerError) -> [[UInt8]] where C.Element == UInt8 {
        var lines: [[UInt8]] = []
        var start = chunk.startIndex
        var index = start
        while index != chunk.endIndex {
            if chunk[index] == UInt8(ascii: "\n") {
                pending.append(contentsOf: chunk[start..<index])
                if let line = Self.trimmed(pending) { lines.append(line) }
                pending.removeAll(keepingCapacity: true)
                start = chunk.index(after: index)
            }
            index = chunk.index(after: index)
        }
        pending.append(contentsOf: chunk[start..<chunk.endIndex])
        if pending.count > maximumLineLength {
            pending.removeAll()
            throw DockerError(
                .protocol,
                operation: "stream",
                message: "a stream line exceeded \(maximumLineLength) bytes"
            )
        }
        return lines
    }

    /// Ends the stream: returns the last line if it had no newline, and resets the splitter.
    public mutating func finish() -> [UInt8]? {
        defer { pending.removeAll() }
        return Self.trimmed(pending)
    }

    private static func trimmed(_ bytes: [UInt8]) -> [UInt8]? {
        func isBlank(_ b: UInt8) -> Bool {
            b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\r") || b == UInt8(ascii: "\n")
        }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }),
            let last = bytes.lastIndex(where: { !isBlank($0) })
        else { return nil }
        return Array(bytes[first...last])
    }
}
