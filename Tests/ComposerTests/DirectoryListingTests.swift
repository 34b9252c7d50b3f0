import Foundation
import SystemFiles
import Testing

/// `DirectoryListing` reads each name in place from its `readdir` record, however short or long the name.
@Suite("Directory listing")
struct DirectoryListingTests {
    @Test("every name, of every length from 1 to 255 bytes, comes back once, and nothing else")
    func everyLength() throws {
        let path = NSTemporaryDirectory() + "directory-listing-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var expected: [String] = []
        for length in 1...255 {
            // Letters cycling through the name, so no two share a prefix that a truncated read could pass for.
            let name = String((0..<length).map { Character(UnicodeScalar(UInt8(97 + ($0 + length) % 26))) })
            #expect(FileManager.default.createFile(atPath: path + "/" + name, contents: nil))
            expected.append(name)
        }
        try FileManager.default.createDirectory(atPath: path + "/é folder", withIntermediateDirectories: false)
        expected.append("é folder")
        let listing = DirectoryListing.names(at: path)
        #expect(listing.errno == nil)
        #expect(listing.names.sorted() == expected.sorted())
    }

    @Test("a missing folder gives ENOENT and no names; a file gives ENOTDIR")
    func failures() throws {
        let path = NSTemporaryDirectory() + "directory-listing-\(UUID().uuidString)"
        let missing = DirectoryListing.names(at: path)
        #expect(missing.errno == ENOENT && missing.names.isEmpty)
        #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = DirectoryListing.names(at: path)
        #expect(file.errno == ENOTDIR && file.names.isEmpty)
    }
}
