import DockerEngine
import Foundation
import Testing

/// The ustar writer, checked by GNU tar itself: listing, extraction and header checksums.
@Suite struct TarWriterTests {
    /// Runs a program and returns its standard output; fails the test on a non-zero exit.
    static func run(_ arguments: [String], in directory: URL? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.environment = ProcessInfo.processInfo.environment.merging(["TZ": "UTC", "LC_ALL": "C"]) { _, new in new
        }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw DockerError(.protocol, operation: arguments.joined(separator: " "), message: errorText)
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tar-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func write(_ archive: [UInt8]) throws -> URL {
        let url = try temporaryDirectory().appendingPathComponent("archive.tar")
        try Data(archive).write(to: url)
        return url
    }

    static let longDirectory = String(repeating: "d", count: 90) + "/" + String(repeating: "e", count: 40)
    static let longPath = longDirectory + "/" + String(repeating: "f", count: 99)

    @Test func listingMatchesTarTvf() throws {
        var writer = TarWriter()
        try writer.addDirectory("conf", mode: 0o750, modificationTime: 1_700_000_000)
        try writer.addFile(
            "conf/app.ini",
            contents: Array("key=value\n".utf8),
            mode: 0o640,
            modificationTime: 1_700_000_000
        )
        try writer.addFile("run.sh", contents: Array("#!/bin/sh\necho hi\n".utf8), mode: 0o755)
        try writer.addFile("empty", contents: [])
        try writer.addSymbolicLink("link", target: "run.sh")
        let archive = writer.finished()
        #expect(archive.count % 512 == 0)
        #expect(archive.suffix(1024).allSatisfy { $0 == 0 })

        let listing = try Self.run(["tar", "--numeric-owner", "-tvf", try Self.write(archive).path])
        let lines = listing.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(lines.count == 5)
        // mode, owner/group, size, (date, time), name
        #expect(lines[0].first == "drwxr-x---" && lines[0][1] == "0/0" && lines[0].last == "conf/")
        #expect(lines[1].first == "-rw-r-----" && lines[1][2] == "10" && lines[1].last == "conf/app.ini")
        #expect(lines[2].first == "-rwxr-xr-x" && lines[2][2] == "18" && lines[2].last == "run.sh")
        #expect(lines[3].first == "-rw-r--r--" && lines[3][2] == "0" && lines[3].last == "empty")
        #expect(lines[4].first == "lrwxrwxrwx" && lines[4].suffix(3) == ["link", "->", "run.sh"])
        #expect(lines[0][3] == "2023-11-14")  // 1_700_000_000 in UTC (TZ is set for tar)
    }

    @Test func longPathsUseThePrefixFieldAndExtractIntact() throws {
        var writer = TarWriter()
        try writer.addDirectory(Self.longDirectory)
        try writer.addFile(Self.longPath, contents: Array(repeating: 0x41, count: 1000))
        let url = try Self.write(writer.finished())
        let listing = try Self.run(["tar", "-tf", url.path])
        #expect(listing == Self.longDirectory + "/\n" + Self.longPath + "\n")

        let out = url.deletingLastPathComponent().appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        _ = try Self.run(["tar", "-xf", url.path, "-C", out.path])
        let data = try Data(contentsOf: out.appendingPathComponent(Self.longPath))
        #expect(data == Data(repeating: 0x41, count: 1000))
        // The split put 131 bytes in the prefix and the file name (99 bytes) in the name field.
        let (prefix, name) = try TarWriter.splitPath(Self.longPath)
        #expect(prefix.count == Self.longDirectory.utf8.count && name.count == 99)
    }

    @Test(arguments: [
        String(repeating: "a", count: 101),  // no slash to split at
        String(repeating: "p", count: 156) + "/short",  // prefix would exceed 155 bytes
        "short/" + String(repeating: "n", count: 101),  // name part would exceed 100 bytes
    ])
    func pathsUstarCannotHoldAreRefused(path: String) throws {
        var writer = TarWriter()
        let error = #expect(throws: DockerError.self) { try writer.addFile(path, contents: [1]) }
        #expect(error?.code == .invalidContext)
        #expect(writer.bytes.isEmpty)
    }

    @Test(arguments: ["", "/etc/passwd", "a/../b", "./x", "a/./b"])
    func unsafePathsAreRefused(path: String) throws {
        var writer = TarWriter()
        let error = #expect(throws: DockerError.self) { try writer.addFile(path, contents: []) }
        #expect(error?.code == .invalidContext)
    }

    @Test func headerChecksumAndFieldsAreUstar() throws {
        var writer = TarWriter()
        try writer.addFile("x", contents: [1, 2, 3], mode: 0o600, modificationTime: 8)
        let header = Array(writer.bytes.prefix(512))
        #expect(Array(header[257..<263]) == Array("ustar\0".utf8))
        #expect(Array(header[263..<265]) == Array("00".utf8))
        #expect(String(decoding: header[100..<107], as: UTF8.self) == "0000600")
        #expect(String(decoding: header[124..<135], as: UTF8.self) == "00000000003")
        var unsummed = header
        unsummed.replaceSubrange(148..<156, with: Array(repeating: UInt8(ascii: " "), count: 8))
        let sum = unsummed.reduce(0) { $0 + Int($1) }
        #expect(String(decoding: header[148..<154], as: UTF8.self) == String(sum, radix: 8).leftPadded(to: 6))
        #expect(header[154] == 0 && header[155] == UInt8(ascii: " "))
        #expect(writer.bytes.count == 1024)  // header + one padded data block
    }

    @Test func directoryArchiveMatchesTheTree() throws {
        let root = try Self.temporaryDirectory()
        let context = root.appendingPathComponent("ctx")
        try FileManager.default.createDirectory(
            at: context.appendingPathComponent("sub/deeper"),
            withIntermediateDirectories: true
        )
        try Data("FROM scratch\n".utf8).write(to: context.appendingPathComponent("Dockerfile"))
        try Data("one".utf8).write(to: context.appendingPathComponent("sub/one.txt"))
        try Data("two".utf8).write(to: context.appendingPathComponent("sub/deeper/two.txt"))
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o700],
            ofItemAtPath: context.appendingPathComponent("sub/one.txt").path
        )
        try FileManager.default.createSymbolicLink(
            atPath: context.appendingPathComponent("alias").path,
            withDestinationPath: "Dockerfile"
        )

        let archive = try TarWriter.archive(directory: context.path)
        let url = root.appendingPathComponent("ctx.tar")
        try Data(archive).write(to: url)
        let listing = try Self.run(["tar", "-tvf", url.path]).split(separator: "\n")
        let names = listing.map { line in
            let fields = line.split(separator: " ")
            return String(fields.firstIndex(of: "->").map { fields[$0 - 1] } ?? fields.last!)
        }
        #expect(names == ["Dockerfile", "alias", "sub/", "sub/deeper/", "sub/deeper/two.txt", "sub/one.txt"])
        #expect(listing.last?.hasPrefix("-rwx------") == true)
        #expect(listing[1].hasSuffix("alias -> Dockerfile"))

        let out = root.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        _ = try Self.run(["tar", "-xf", url.path, "-C", out.path])
        _ = try Self.run(["diff", "-r", "--no-dereference", context.path, out.path])
        try? FileManager.default.removeItem(at: root)
    }

    @Test func archivingAMissingDirectoryFails() {
        let error = #expect(throws: DockerError.self) {
            try TarWriter.archive(directory: "/nonexistent/\(UUID().uuidString)")
        }
        #expect(error?.code == .invalidContext)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
