import DecnetJSON
import Foundation

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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let payload = PythonJSONEncoder().encode(.array(texts.map { JSONValue($0) }))
        // Read concurrently with writing so a large output cannot fill the pipe and stall python.
        nonisolated(unsafe) var out = Data()
        let reader = Thread { out = output.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        input.fileHandleForWriting.write(Data(payload))
        try input.fileHandleForWriting.close()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        guard process.terminationStatus == 0 else {
            throw Failure(description: "python3 yaml.safe_load failed (\(process.terminationStatus)): "
                + String(decoding: err, as: UTF8.self))
        }
        guard case .array(let docs) = try JSONParser.parse([UInt8](out)) else {
            throw Failure(description: "python3 returned no list")
        }
        return docs
    }
}
