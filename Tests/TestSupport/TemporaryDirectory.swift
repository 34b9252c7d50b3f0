import Foundation

/// A fresh directory `/tmp/PREFIX.XXXXXX` (mkdtemp), removed by ``remove()``. Always under /tmp, not `$TMPDIR`: an
/// `ipc://` socket inside it must fit in `sun_path` (108 bytes).
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ prefix: String = "decnet-tests") throws {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let result = mkdtemp(&template) else { throw FixtureError("mkdtemp /tmp/\(prefix): errno \(errno)") }
        path = String(cString: result)
    }

    /// The path of `name` inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
