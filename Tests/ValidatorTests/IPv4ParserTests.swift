import DecnetJSON
import Testing
import Topology

/// `IPv4Address` / `IPv4Network` against CPython 3.11's `ipaddress` (expected values produced by running it).
@Suite("IPv4 parsing like CPython ipaddress")
struct IPv4ParserTests {
    /// (input, str() of the address or nil when CPython raises).
    static let addresses: [(JSONValue, String?)] = [
        ("172.20.2.3", "172.20.2.3"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
        ("256.1.1.1", nil), ("010.0.0.1", nil), ("172.20.02.3", nil), ("01.2.3.4", nil), ("0.0.0.00", nil),
        ("1.2.3.0000", nil), ("1.2.3", nil), ("1.2.3.4.5", nil), (" 1.2.3.4", nil), ("1.2.3.4 ", nil),
        ("1.2.3.4\n", nil), ("1.2.3.4/32", nil), ("", nil), ("1..2.3", nil), ("1.2.3.", nil), ("+1.2.3.4", nil),
        ("1.2.3.-4", nil), ("\u{FF11}.2.3.4", nil), ("\u{0661}.2.3.4", nil), ("1.2.3.4%eth0", nil),
        // Integers are 32-bit addresses; bool is a Python int.
        (2_886_992_387, "172.20.2.3"), (0, "0.0.0.0"), (4_294_967_295, "255.255.255.255"), (4_294_967_296, nil),
        (-1, nil), (.integer(JSONInteger(decimal: "18446744073709551616")!), nil), (true, "0.0.0.1"),
        (false, "0.0.0.0"),
        // Everything else is malformed.
        (nil, nil), (1.0, nil), (2_886_992_387.0, nil), ([1], nil), (["172.20.2.3"], nil), ([:], nil),
    ]

    @Test(arguments: addresses.indices)
    func address(_ i: Int) {
        let (input, expected) = Self.addresses[i]
        #expect(IPv4Address(python: input)?.description == expected, "\(input)")
    }

    /// (input, str() of the network or nil when CPython raises).
    static let networks: [(JSONValue, String?)] = [
        ("172.20.0.0/24", "172.20.0.0/24"), ("172.20.0.0/024", "172.20.0.0/24"),
        ("172.20.0.0/0000024", "172.20.0.0/24"), ("10.0.0.1", "10.0.0.1/32"), ("0.0.0.0/0", "0.0.0.0/0"),
        ("128.0.0.0/1", "128.0.0.0/1"), ("172.20.2.0/32", "172.20.2.0/32"),
        // Host bits and prefix range.
        ("172.20.2.5/24", nil), ("172.20.2.0/33", nil), ("10.0.0.0/-1", nil), ("10.0.0.0/+8", nil),
        ("10.0.0.0/ 8", nil), ("10.0.0.0/8 ", nil), ("10.0.0.0/", nil), ("/8", nil), ("10.0.0.0/8/8", nil),
        ("10.0.0.0/\u{FF11}6", nil),
        // Netmask and hostmask forms; all-zero and all-one masks read as netmasks.
        ("172.20.2.0/255.255.255.0", "172.20.2.0/24"), ("172.20.2.0/0.0.0.255", "172.20.2.0/24"),
        ("128.0.0.0/128.0.0.0", "128.0.0.0/1"), ("0.0.0.0/0.0.0.0", "0.0.0.0/0"), ("10.0.0.0/0.0.0.0", nil),
        ("10.0.0.1/255.255.255.255", "10.0.0.1/32"), ("0.0.0.0/255.255.255.255", "0.0.0.0/32"),
        ("10.0.0.0/255.0.255.0", nil), ("10.0.0.0/0.255.0.255", nil), ("10.0.0.0/255.255.0.255", nil),
        ("10.0.0.0/255.255.255.00", nil),
        // Leading zeros in the prefix: CPython's int() takes up to 4,300 digits.
        (.string(JSONString("10.0.0.0/" + String(repeating: "0", count: 4298) + "8")), "10.0.0.0/8"),
        (.string(JSONString("10.0.0.0/" + String(repeating: "0", count: 4300) + "8")), nil),
        // Octet rules of the address part.
        ("010.0.0.0/8", nil), ("lan-two", nil),
        // Integers and booleans are /32 networks.
        (167_772_160, "10.0.0.0/32"), (true, "0.0.0.1/32"), (4_294_967_296, nil), (-1, nil),
        (nil, nil), (24.0, nil), (["10.0.0.0/8"], nil), (["subnet": "10.0.0.0/8"], nil),
    ]

    @Test(arguments: networks.indices)
    func network(_ i: Int) {
        let (input, expected) = Self.networks[i]
        #expect(IPv4Network(python: input)?.description == expected, "\(input)")
    }

    @Test func containmentAndOverlap() throws {
        let lan = try #require(IPv4Network(python: "172.20.2.0/24"))
        #expect(lan.contains(try #require(IPv4Address(python: "172.20.2.0"))))
        #expect(lan.contains(try #require(IPv4Address(python: "172.20.2.255"))))
        #expect(!lan.contains(try #require(IPv4Address(python: "172.20.3.0"))))
        #expect(lan.contains(try #require(IPv4Address(python: 2_886_992_387))))
        let supernet = try #require(IPv4Network(python: "172.20.0.0/16"))
        let other = try #require(IPv4Network(python: "172.21.0.0/16"))
        let everything = try #require(IPv4Network(python: "0.0.0.0/0"))
        #expect(lan.overlaps(supernet) && supernet.overlaps(lan))
        #expect(lan.overlaps(lan))
        #expect(!lan.overlaps(other) && !supernet.overlaps(other))
        #expect(everything.overlaps(lan) && lan.overlaps(everything))
        #expect(everything.last == UInt32.max && everything.first == 0)
    }
}
