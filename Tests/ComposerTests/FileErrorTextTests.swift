import FileErrors
import Foundation
import Testing
import Topology

/// `FileErrorText` words file errors as the full Foundation does: this test process links Foundation, so every case
/// compares against Foundation's own `localizedDescription` and `description` of the very same error.
@Suite("File error text without Foundation")
struct FileErrorTextTests {
    /// `UserInfo={...}` members sorted, as Foundation prints them in dictionary order (which varies from run to run).
    static func orderInsensitive(_ text: String) -> String {
        guard let open = text.range(of: "UserInfo={"), text.hasSuffix("}") else { return text }
        let members = text[open.upperBound..<text.index(before: text.endIndex)].components(separatedBy: ", ")
        return String(text[..<open.upperBound]) + members.sorted().joined(separator: ", ") + "}"
    }

    static func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "file-error-text-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: path + "/a file é", contents: Data("x".utf8))
        return path
    }

    /// File operations that fail in different ways (missing, not a directory, exists, is a directory, not a link).
    static let failures: [(String, @Sendable (String) throws -> Void)] = [
        ("list a missing folder", { _ = try FileManager.default.contentsOfDirectory(atPath: $0 + "/missing") }),
        ("list a file", { _ = try FileManager.default.contentsOfDirectory(atPath: $0 + "/a file é") }),
        ("attributes of nothing", { _ = try FileManager.default.attributesOfItem(atPath: $0 + "/missing") }),
        ("link that is a file", { _ = try FileManager.default.destinationOfSymbolicLink(atPath: $0 + "/a file é") }),
        ("folder under a file", {
            try FileManager.default.createDirectory(
                atPath: $0 + "/a file é/sub", withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        }),
        ("folder over a file", {
            try FileManager.default.createDirectory(
                atPath: $0 + "/a file é", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }),
        ("write into a missing folder", {
            try Data("x".utf8).write(to: URL(fileURLWithPath: $0 + "/missing/x.yml"), options: .atomic)
        }),
        ("read a missing file", { _ = try Data(contentsOf: URL(fileURLWithPath: $0 + "/missing")) }),
        ("read a folder", { _ = try Data(contentsOf: URL(fileURLWithPath: $0)) }),
        ("chmod nothing", {
            try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: $0 + "/missing")
        }),
    ]

    @Test(arguments: failures.indices)
    func realFailuresReadAsFoundationWroteThem(_ index: Int) throws {
        let (name, operation) = Self.failures[index]
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let error = try #require(throws: (any Error).self, "\(name)") { try operation(directory) }
        #expect(FileErrorText.describe(error) == error.localizedDescription, "\(name)")
        #expect(Self.orderInsensitive(FileErrorText.details(error)) == Self.orderInsensitive("\(error)"), "\(name)")
    }

    @Test(arguments: [4, 255, 256, 257, 258, 259, 260, 261, 262, 263, 264, 512, 513, 514, 516, 517, 518, 640, 642])
    func everyFileCodeReadsAsFoundationWroteIt(_ code: Int) {
        let error = CocoaError(CocoaError.Code(rawValue: code), userInfo: [NSFilePathErrorKey: "/var/lib/x y"])
        #expect(FileErrorText.describe(error) == error.localizedDescription)
        #expect(FileErrorText.details(error) == "\(error)")
        let bare = CocoaError(CocoaError.Code(rawValue: code))
        #expect(FileErrorText.details(bare) == "\(bare)")
    }

    @Test func otherErrorsPrintAsThemselves() {
        struct Custom: Error, CustomStringConvertible { var description: String { "custom failure" } }
        #expect(FileErrorText.details(Custom()) == "custom failure")
    }

    @Test func missingCatalogFileSaysSo() throws {
        let path = NSTemporaryDirectory() + "no-such-catalog-\(UUID().uuidString).json"
        let error = try #require(throws: CatalogError.self) { _ = try ServiceCatalog.load(contentsOf: path) }
        #expect(error.code == .unreadable)
        let expected = "cannot read \(path): The operation could not be completed. The file doesn’t exist."
        #expect("\(error)".contains(expected))
    }
}
