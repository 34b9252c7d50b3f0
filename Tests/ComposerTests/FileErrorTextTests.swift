import Foundation
import SystemFiles
import Testing
import Topology

/// `FileErrorText` gives the system's reason for a failed file operation (`strerror` of its `errno`), so messages read
/// `<operation> <path>: <reason>` whatever Foundation the process links.
@Suite("File error reasons")
struct FileErrorTextTests {
    static func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "file-error-text-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: path + "/a file é", contents: Data("x".utf8))
        return path
    }

    /// File operations that fail in different ways, with the `errno` the system gives each.
    static let failures: [(String, Int32, @Sendable (String) throws -> Void)] = [
        ("list a missing folder", ENOENT, { _ = try FileManager.default.contentsOfDirectory(atPath: $0 + "/missing") }),
        ("list a file", ENOTDIR, { _ = try FileManager.default.contentsOfDirectory(atPath: $0 + "/a file é") }),
        ("attributes of nothing", ENOENT, { _ = try FileManager.default.attributesOfItem(atPath: $0 + "/missing") }),
        (
            "folder under a file", ENOTDIR,
            {
                try FileManager.default.createDirectory(
                    atPath: $0 + "/a file é/sub",
                    withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700]
                )
            }
        ),
        (
            "write into a missing folder", ENOENT,
            {
                try Data("x".utf8).write(to: URL(fileURLWithPath: $0 + "/missing/x.yml"), options: .atomic)
            }
        ),
        ("read a missing file", ENOENT, { _ = try Data(contentsOf: URL(fileURLWithPath: $0 + "/missing")) }),
        (
            "chmod nothing", ENOENT,
            {
                try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: $0 + "/missing")
            }
        ),
    ]

    @Test(arguments: failures.indices)
    func realFailuresGiveTheSystemsReason(_ index: Int) throws {
        let (name, expected, operation) = Self.failures[index]
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let error = try #require(throws: (any Error).self, "\(name)") { try operation(directory) }
        #expect(FileErrorText.errno(of: error) == expected, "\(name): \(error)")
        #expect(FileErrorText.reason(error) == String(cString: strerror(expected)), "\(name)")
    }

    @Test func codesWithoutAnUnderlyingErrorStillHaveAReason() {
        #expect(FileErrorText.reason(CocoaError(.fileWriteOutOfSpace)) == String(cString: strerror(ENOSPC)))
        #expect(FileErrorText.reason(CocoaError(.fileReadNoPermission)) == String(cString: strerror(EACCES)))
        #expect(FileErrorText.reason(POSIXError(.EROFS)) == String(cString: strerror(EROFS)))
    }

    @Test func otherErrorsPrintAsThemselves() {
        struct Custom: Error, CustomStringConvertible { var description: String { "custom failure" } }
        #expect(FileErrorText.reason(Custom()) == "custom failure")
    }

    @Test func missingCatalogFileSaysSo() throws {
        let path = NSTemporaryDirectory() + "no-such-catalog-\(UUID().uuidString).json"
        let error = try #require(throws: CatalogError.self) { _ = try ServiceCatalog.load(contentsOf: path) }
        #expect(error.code == .unreadable)
        #expect("\(error)".contains("cannot read \(path): No such file or directory"))
    }
}
