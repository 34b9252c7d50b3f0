import Foundation
import Hashing
import TestSupport
import Topology

/// Everything a hostile frame could change: the store's tables, the runtime's bridges, containers and calls, and the
/// files under the test's root folder (the state directory and its parent, where a path traversal would land).
struct AgentSnapshot: Equatable {
    var tables: [String: [String]]
    var bridges: [String: String]
    var containers: [String: InMemoryRuntime.Container]
    var runtimeCalls: [String]
    /// Relative path → size and a digest of the content, for every file under the root except the database files
    /// (compared through `tables`).
    var files: [String: String]

    var applied: [String] { tables["applied"] ?? [] }
    var attempt: [String] { tables["attempt"] ?? [] }
    var requests: [String] { tables["request"] ?? [] }

    static func take(root: String, database: String, runtime: InMemoryRuntime) throws -> AgentSnapshot {
        let state = runtime.update { $0 }
        return AgentSnapshot(
            tables: try DatabaseDump.read(database),
            bridges: state.bridges,
            containers: state.containers,
            runtimeCalls: state.calls,
            files: try files(under: root)
        )
    }

    static func files(under root: String) throws -> [String: String] {
        var out: [String: String] = [:]
        guard let walker = FileManager.default.enumerator(atPath: root) else {
            throw FixtureError("cannot list \(root)")
        }
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix("agent.db") { continue }
            let path = root + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                out[relative] = "dir"
            } else {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                out[relative] = "\(data.count) bytes, sha256 \(SHA256.hex(Array(data)))"
            }
        }
        return out
    }
}
