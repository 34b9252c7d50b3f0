/// Why a service catalog cannot be used: unreadable file, invalid JSON, or a schema violation at a JSON path.
///
/// `code` is stable and meant for programs; `path` is a JSON Pointer (`/services/ssh/tcp_ports/0`) naming the
/// offending member; `message` is for people.
public struct CatalogError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The catalog file could not be read.
        public static let unreadable = Code(rawValue: "catalog_unreadable")
        /// The file is not valid JSON.
        public static let invalidJSON = Code(rawValue: "catalog_invalid_json")
        /// `catalog_version` is missing or names a version this build does not know.
        public static let unsupportedVersion = Code(rawValue: "catalog_unsupported_version")
        /// A member has the wrong type or an impossible value.
        public static let invalidValue = Code(rawValue: "catalog_invalid_value")
        /// A required member is missing.
        public static let missingMember = Code(rawValue: "catalog_missing_member")
        /// A member the schema does not define.
        public static let unknownMember = Code(rawValue: "catalog_unknown_member")
    }

    public var code: Code
    /// JSON Pointer of the offending member; `""` is the whole document.
    public var path: String
    public var message: String

    public init(_ code: Code, path: String, _ message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String {
        path.isEmpty ? "\(code): \(message)" : "\(code) at \(path): \(message)"
    }
}
