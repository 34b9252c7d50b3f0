/// Why a hydrated topology cannot be turned into a compose plan, or why a plan's host ports cannot be checked.
///
/// The first two codes are the failures DECNET's composer raises (an `ips_by_lan` entry naming no LAN, a service no
/// plugin provides); the others cover input the validator lets through but the composer cannot use. `path` is the
/// JSON Pointer of the offending member when there is one.
public struct ComposeError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// `decky_config.ips_by_lan` names a LAN that is not in `lans` (DECNET: `ValueError`).
        public static let unknownLAN = Code(rawValue: "unknown_lan")
        /// A decky lists a service the catalog does not have (DECNET: `KeyError` from the registry).
        public static let unknownService = Code(rawValue: "unknown_service")
        /// A member the composer needs is missing or has the wrong type (DECNET: a Python exception).
        public static let malformed = Code(rawValue: "malformed_topology")
        /// A `files` knob that is not an absolute host path usable in a volume.
        public static let invalidFilesPath = Code(rawValue: "invalid_files_path")
        /// `/proc/net/{tcp,tcp6,udp,udp6}` could not be read for the port preflight.
        public static let hostPortsUnreadable = Code(rawValue: "host_ports_unreadable")
    }

    public var code: Code
    public var message: String
    /// JSON Pointer into the hydrated topology (`/deckies/2/decky_config/ips_by_lan`), or nil.
    public var path: String?

    public init(_ code: Code, _ message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }

    public var description: String {
        if let path { return "\(code) at \(path): \(message)" }
        return "\(code): \(message)"
    }
}
