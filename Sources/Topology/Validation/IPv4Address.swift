import DecnetJSON

/// An IPv4 address parsed exactly as CPython 3.11's `ipaddress.IPv4Address(value)` parses a JSON value.
///
/// DECNET's validator feeds raw JSON values to that constructor, so the agent must accept and refuse the same
/// inputs: integers (and `true`/`false`, which are Python ints) in 0…2³²−1 are addresses; strings must be exactly
/// four dot-separated ASCII decimal octets of at most three digits, value ≤ 255, without leading zeros and without
/// a `/`; every other JSON type fails (Python would parse its `str()`, which is never a dotted quad).
public struct IPv4Address: Sendable, Hashable, CustomStringConvertible {
    /// The address as a 32-bit big-endian integer (`int(IPv4Address)`).
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    /// The address CPython would build from `value`, or `nil` where it raises `AddressValueError`.
    public init?(python value: JSONValue) {
        guard case .success(let a) = Self.parse(value) else { return nil }
        self = a
    }

    /// Dotted-quad text, as `str(IPv4Address)` prints it.
    public var description: String {
        "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
    }

    static func parse(_ value: JSONValue) -> Result<IPv4Address, IPv4SyntaxError> {
        switch value {
        case .bool(let b): return .success(IPv4Address(b ? 1 : 0))
        case .integer(let i):
            guard let v = i.int64Value, v >= 0, v <= Int64(UInt32.max) else {
                return .failure(IPv4SyntaxError("the integer \(IssueText.quote(value)) is outside 0…4294967295"))
            }
            return .success(IPv4Address(UInt32(v)))
        case .string(let s):
            if s.value.utf8.contains(UInt8(ascii: "/")) {
                return .failure(IPv4SyntaxError("an address may not contain \"/\""))
            }
            return parse(dotted: Array(s.value.utf8)[...])
        case .null, .float, .array, .object:
            return .failure(IPv4SyntaxError("expected a string or an integer, found \(value.typeName)"))
        }
    }

    /// CPython's `_ip_int_from_string`: four octets separated by `.`. Works on UTF-8 bytes: only ASCII digits are
    /// acceptable in an octet, and no multi-byte sequence contains the byte of `.`.
    static func parse(dotted text: ArraySlice<UInt8>) -> Result<IPv4Address, IPv4SyntaxError> {
        if text.isEmpty { return .failure(IPv4SyntaxError("the address is empty")) }
        let octets = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard octets.count == 4 else {
            return .failure(IPv4SyntaxError("expected 4 dot-separated octets, found \(octets.count)"))
        }
        var value: UInt32 = 0
        for octet in octets {
            switch parseOctet(octet) {
            case .success(let v): value = value << 8 | UInt32(v)
            case .failure(let e): return .failure(e)
            }
        }
        return .success(IPv4Address(value))
    }

    private static func parseOctet(_ octet: ArraySlice<UInt8>) -> Result<UInt8, IPv4SyntaxError> {
        let shown = "\"" + String(decoding: octet.prefix(16), as: UTF8.self) + (octet.count > 16 ? "…" : "") + "\""
        if octet.isEmpty { return .failure(IPv4SyntaxError("an octet is empty")) }
        guard octet.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return .failure(IPv4SyntaxError("octet \(shown) is not made of decimal digits 0-9"))
        }
        guard octet.count <= 3 else { return .failure(IPv4SyntaxError("octet \(shown) has more than 3 digits")) }
        if octet.count > 1 && octet.first == 0x30 {
            return .failure(IPv4SyntaxError("octet \(shown) has a leading zero"))
        }
        let v = octet.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        guard v <= 255 else { return .failure(IPv4SyntaxError("octet \(v) is larger than 255")) }
        return .success(UInt8(v))
    }
}

/// Why a value is not an IPv4 address or network (CPython's `AddressValueError` / `NetmaskValueError`); only the
/// reason text is used, in issue messages.
struct IPv4SyntaxError: Error, Sendable {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
