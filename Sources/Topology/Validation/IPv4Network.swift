import DecnetJSON

/// An IPv4 network parsed exactly as CPython 3.11's strict `ipaddress.IPv4Network(value)` parses a JSON value.
///
/// Forms: `addr` (a /32), `addr/len` with `len` in 0…32 written in ASCII digits (leading zeros allowed: `/024`),
/// `addr/netmask` (`/255.255.255.0`) or `addr/hostmask` (`/0.0.0.255`); integers and booleans are /32 networks.
/// Host bits set below the prefix are an error (strict mode).
public struct IPv4Network: Sendable, Hashable, CustomStringConvertible {
    public var address: IPv4Address
    public var prefixLength: Int

    /// A network from an address whose host bits are already clear; traps otherwise (a programmer error).
    public init(address: IPv4Address, prefixLength: Int) {
        precondition((0...32).contains(prefixLength), "prefix length out of range")
        precondition(address.value & Self.mask(prefixLength) == address.value, "host bits set")
        self.address = address
        self.prefixLength = prefixLength
    }

    /// The network CPython would build from `value`, or `nil` where it raises `ValueError`.
    public init?(python value: JSONValue) {
        guard case .success(let n) = Self.parse(value) else { return nil }
        self = n
    }

    public var netmask: UInt32 { Self.mask(prefixLength) }
    public var first: UInt32 { address.value }
    public var last: UInt32 { address.value | ~netmask }

    /// `a.b.c.d/len`, as `str(IPv4Network)` prints it (netmask forms normalised).
    public var description: String { "\(address)/\(prefixLength)" }

    public func contains(_ a: IPv4Address) -> Bool { a.value & netmask == address.value }

    /// Whether the two networks share at least one address (`IPv4Network.overlaps`).
    public func overlaps(_ other: IPv4Network) -> Bool { first <= other.last && other.first <= last }

    static func mask(_ prefixLength: Int) -> UInt32 {
        prefixLength == 0 ? 0 : UInt32.max << UInt32(32 - prefixLength)
    }

    /// CPython's int-to-string limit: `int()` refuses decimal strings with more digits than this.
    static let maxPrefixDigits = 4300

    static func parse(_ value: JSONValue) -> Result<IPv4Network, IPv4SyntaxError> {
        switch value {
        case .bool, .integer:
            return IPv4Address.parse(value).map { IPv4Network(address: $0, prefixLength: 32) }
        case .string(let s):
            let bytes = Array(s.value.utf8)
            let parts = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return .failure(IPv4SyntaxError("only one \"/\" is allowed")) }
            let address: IPv4Address
            switch IPv4Address.parse(dotted: parts[0]) {
            case .success(let a): address = a
            case .failure(let e): return .failure(e)
            }
            var prefixLength = 32
            if parts.count == 2 {
                switch parsePrefix(parts[1]) {
                case .success(let p): prefixLength = p
                case .failure(let e): return .failure(e)
                }
            }
            guard address.value & mask(prefixLength) == address.value else {
                return .failure(IPv4SyntaxError("\(address)/\(prefixLength) has host bits set"))
            }
            return .success(IPv4Network(address: address, prefixLength: prefixLength))
        case .null, .float, .array, .object:
            return .failure(IPv4SyntaxError("expected a string or an integer, found \(value.typeName)"))
        }
    }

    /// `_make_netmask` for a string: a decimal prefix length first, then a dotted netmask, then a dotted hostmask.
    private static func parsePrefix(_ text: ArraySlice<UInt8>) -> Result<Int, IPv4SyntaxError> {
        let shown = "\"" + String(decoding: text.prefix(20), as: UTF8.self) + (text.count > 20 ? "…" : "") + "\""
        let invalid = IPv4SyntaxError("\(shown) is neither a prefix length 0-32 nor a netmask or hostmask")
        if !text.isEmpty, text.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard text.count <= maxPrefixDigits else { return .failure(invalid) }
            // Digits only, so it cannot be a dotted mask either: in range or invalid.
            let significant = text.drop { $0 == 0x30 }
            guard significant.count <= 2 else { return .failure(invalid) }
            let v = significant.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            return v <= 32 ? .success(v) : .failure(invalid)
        }
        guard case .success(let m) = IPv4Address.parse(dotted: text) else { return .failure(invalid) }
        if let p = contiguousPrefix(m.value) { return .success(p) }  // netmask, e.g. 255.255.255.0
        if let p = contiguousPrefix(~m.value) { return .success(p) }  // hostmask, e.g. 0.0.0.255
        return .failure(invalid)
    }

    /// The prefix length when `bits` is ones followed by zeros (`_prefix_from_ip_int`), else nil.
    private static func contiguousPrefix(_ bits: UInt32) -> Int? {
        let ones = bits.leadingZeroBitCount == 0 ? (~bits).leadingZeroBitCount : 0
        return mask(ones) == bits ? ones : nil
    }
}
