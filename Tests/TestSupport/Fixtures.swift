import DecnetJSON
import Foundation
import Testing

/// Test fixtures under Tests/Fixtures, located from this file's path so tests work from any working directory.
public enum Fixtures {
    public static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TestSupport
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures")

    /// The repository's root folder (packaging files, examples, scripts).
    public static let repositoryRoot: String =
        directory
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // the repository
        .path

    public static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    public static func data(_ name: String) throws -> Data { try Data(contentsOf: url(name)) }

    /// Parses a fixture with our own CPython-compatible parser (Foundation would lose big integers and 1.0 vs 1).
    public static func json(_ name: String) throws -> JSONValue {
        try JSONParser.parse([UInt8](data(name)))
    }

    /// The elements of a fixture that is a JSON array of cases.
    public static func cases(_ name: String) throws -> [JSONValue] {
        guard let cases = try json(name).arrayValue else { throw FixtureError("\(name) is not an array") }
        return cases
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A vector case wrapped so swift-testing can show its name for parametrised tests.
public struct VectorCase: Sendable, CustomTestStringConvertible, CustomStringConvertible {
    public let name: String
    public let value: JSONValue

    public init(_ value: JSONValue) {
        self.value = value
        self.name = value["name"]?.stringValue ?? "?"
    }

    public var testDescription: String { name }
    public var description: String { name }

    public subscript(key: String) -> JSONValue? { value[key] }

    /// Loads every case of a vector file; a broken fixture becomes an empty list and fails the count check in tests.
    public static func load(_ file: String) -> [VectorCase] {
        ((try? Fixtures.cases(file)) ?? []).map(VectorCase.init)
    }
}
