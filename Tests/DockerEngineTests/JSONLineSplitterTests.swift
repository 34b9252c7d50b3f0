import DecnetJSON
import DockerEngine
import Testing

/// The splitter that turns the events and build streams into JSON messages, whatever the chunking.
@Suite struct JSONLineSplitterTests {
    static let stream =
        #"{"Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"name":"x"}}}"#
        + "\n" + #"{"Type":"network","Action":"connect"}"# + "\r\n\n" + #"{"status":"é ✓"}"# + "\n"

    static func split(_ bytes: [UInt8], chunkSizes: [Int]) throws -> [String] {
        var splitter = JSONLineSplitter()
        var lines: [[UInt8]] = []
        var offset = 0
        var sizes = chunkSizes.makeIterator()
        while offset < bytes.count {
            let size = min(max(1, sizes.next() ?? 1), bytes.count - offset)
            lines += try splitter.append(bytes[offset..<(offset + size)])
            offset += size
        }
        if let last = splitter.finish() { lines.append(last) }
        return lines.map { String(decoding: $0, as: UTF8.self) }
    }

    static let expected = [
        #"{"Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"name":"x"}}}"#,
        #"{"Type":"network","Action":"connect"}"#, #"{"status":"é ✓"}"#,
    ]

    @Test(arguments: [[1], [2], [3], [7], [50], [1000], [5, 1, 80, 2, 1, 13]])
    func everyChunkingGivesTheSameLines(chunkSizes: [Int]) throws {
        let lines = try Self.split(Array(Self.stream.utf8), chunkSizes: chunkSizes)
        #expect(lines == Self.expected)
        for line in lines { _ = try JSONParser.parse(line) }
    }

    @Test func aLineSplitInsideAMultiByteCharacterIsReassembled() throws {
        let bytes = Array(#"{"name":"é"}"#.utf8) + [10]
        let cut = bytes.firstIndex(of: 0xC3)! + 1  // between the two bytes of é
        var splitter = JSONLineSplitter()
        #expect(try splitter.append(bytes[..<cut]).isEmpty)
        #expect(splitter.bufferedByteCount == cut)
        let lines = try splitter.append(bytes[cut...])
        #expect(lines.map { String(decoding: $0, as: UTF8.self) } == [#"{"name":"é"}"#])
        #expect(splitter.finish() == nil)
    }

    @Test func trailingLineWithoutNewlineComesOutAtFinish() throws {
        var splitter = JSONLineSplitter()
        #expect(try splitter.append(Array("{\"a\":1}\n  {\"b\":2}".utf8)).count == 1)
        #expect(splitter.finish().map { String(decoding: $0, as: UTF8.self) } == "{\"b\":2}")
        #expect(splitter.finish() == nil)
    }

    @Test func blankLinesAreSkipped() throws {
        var splitter = JSONLineSplitter()
        #expect(try splitter.append(Array("\n\r\n  \n\t\n".utf8)).isEmpty)
        #expect(splitter.finish() == nil)
    }

    @Test func anOverlongLineIsAProtocolError() throws {
        var splitter = JSONLineSplitter(maximumLineLength: 16)
        #expect(try splitter.append(Array("0123456789\n".utf8)).count == 1)
        let error = #expect(throws: DockerError.self) { try splitter.append(Array(repeating: 65, count: 17)) }
        #expect(error?.code == .protocol)
    }
}
