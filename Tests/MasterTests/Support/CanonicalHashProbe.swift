import DecnetJSON
import Foundation
import Topology

/// The canonical hash of a JSON file, as the CLI must compute it.
enum CanonicalHashProbe {
    static func hash(of path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path), let value = try? JSONParser.parse([UInt8](data))
        else { return nil }
        return CanonicalHash.hash(value)
    }
}
