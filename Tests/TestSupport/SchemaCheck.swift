import DecnetJSON
import Foundation

/// Validates messages against `schemas/` with Python's `jsonschema` (interop/schema_check.py).
public enum SchemaCheck {
    public static let script: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("interop/schema_check.py").path

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// One message and the schema file it must (or must not) validate against.
    public struct Item: Sendable {
        public var schema: String
        public var message: JSONValue
        public var valid: Bool

        public init(schema: String, message: JSONValue, valid: Bool = true) {
            self.schema = schema
            self.message = message
            self.valid = valid
        }
    }

    /// Checks every item; throws with the validator's report when any does not validate as expected, or when
    /// nothing was checked.
    public static func check(_ items: [Item]) throws {
        guard !items.isEmpty else { throw Failure(description: "no messages to check") }
        var input: [UInt8] = []
        for item in items {
            let line: JSONValue = [
                "schema": .string(JSONString(item.schema)), "message": item.message,
                "valid": .bool(item.valid),
            ]
            input += PythonJSONEncoder().encode(line) + [0x0A]
        }
        let output = try ProcessRunner.run("/usr/bin/env", ["python3", script], stdin: Data(input))
        let report = try? JSONParser.parse([UInt8](output.stdout))
        guard output.status == 0, report?["checked"]?.intValue == items.count else {
            throw Failure(
                description: "schema check failed (exit \(output.status)): \(output.stdoutText) \(output.stderr)"
            )
        }
    }

    /// The wire schema for a message, by its type (results by the request type when known).
    public static func wire(_ message: JSONValue, requestType: String? = nil) -> Item {
        if message["type"]?.stringValue == "result", message["status"]?.intValue == 200, let requestType {
            return Item(schema: "result-\(requestType).schema.json", message: message)
        }
        return Item(schema: "message.schema.json", message: message)
    }

    /// The control schema for a message the master sent to a control client.
    public static func controlFromMaster(_ message: JSONValue) -> Item {
        let type = message["type"]?.stringValue ?? "?"
        let name = type == "control_error" ? "error" : type
        return Item(schema: "control-\(name).schema.json", message: message)
    }
}
