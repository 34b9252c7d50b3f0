import DecnetJSON
import Foundation
import TestSupport

/// Loads YAML with PyYAML's `yaml.safe_load` in a `python3` subprocess and returns the data as JSON, so tests can
/// prove the written file reads back to the document. python3-yaml must be installed (the test script installs it).
enum PyYAML {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let script = """
        import json, sys, yaml
        docs = json.load(sys.stdin)
        json.dump([yaml.safe_load(d) for d in docs], sys.stdout, ensure_ascii=True, allow_nan=True)
        """

    /// `safe_load` of each text, in one interpreter.
    static func safeLoad(_ texts: [String]) throws -> [JSONValue] {
        let payload = PythonJSONEncoder().encode(.array(texts.map { JSONValue($0) }))
        let result = try ProcessRunner.run("/usr/bin/env", ["python3", "-c", script], stdin: Data(payload))
        guard result.status == 0 else {
            throw Failure(description: "python3 yaml.safe_load failed (\(result.status)): \(result.stderr)")
        }
        guard case .array(let docs) = try JSONParser.parse([UInt8](result.stdout)) else {
            throw Failure(description: "python3 returned no list")
        }
        return docs
    }
}
