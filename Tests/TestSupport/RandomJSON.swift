import DecnetJSON

/// A small deterministic PRNG (SplitMix64) so property tests and fuzz tests are reproducible from their seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random JSON documents that exercise everything the canonical form cares about: big integers, floats of every
/// magnitude, Unicode (astral, combining marks, controls, DEL), volatile key names, nesting.
public struct RandomJSON {
    public var rng: SeededRandom
    public init(seed: UInt64) { rng = SeededRandom(seed: seed) }

    static let keyPool: [String] = [
        "a", "b", "id", "name", "lans", "x", "y", "w", "h", "status", "version", "created_at", "X", "Status", "x ",
        "é", "e\u{301}", "😀", "\u{FF01}", "日本", "", "k\"q", "back\\slash", "tab\t", "del\u{7F}", "nul\u{0}",
    ]
    static let stringPool: [String] = [
        "", "plain", "status", "x", "é", "e\u{301}", "😀👍🏽", "\u{2028}\u{2029}", "\u{FEFF}bom", "ctl\u{1}\u{1F}",
        "del\u{7F}\u{80}\u{9F}", "quote\"back\\slash/", "東京", "\u{10FFFF}", "\u{A0}nbsp",
    ]

    public mutating func value(depth: Int = 0) -> JSONValue {
        let roll = Int.random(in: 0..<(depth > 4 ? 7 : 10), using: &rng)
        switch roll {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2:
            if Bool.random(using: &rng) { return .integer(JSONInteger(Int.random(in: -1000...1000, using: &rng))) }
            let digits = (0..<Int.random(in: 1...40, using: &rng)).map { _ in String(Int.random(in: 0...9, using: &rng))
            }
            let text = (Bool.random(using: &rng) ? "-" : "") + "1" + digits.joined()
            return .integer(JSONInteger(decimal: text)!)
        case 3:
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: return .float(Double(Int.random(in: -100...100, using: &rng)))
            case 1: return .float(Double.random(in: -1e6...1e6, using: &rng))
            case 2: return .float(Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF))
            default: return .float([0.0, -0.0, 1e16, 1e-5, 0.1, 5e-324][Int.random(in: 0..<6, using: &rng)])
            }
        case 4, 5, 6: return .string(JSONString(string()))
        case 7:
            return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in value(depth: depth + 1) })
        default:
            var o = JSONObject()
            for _ in 0..<Int.random(in: 0...5, using: &rng) { o[JSONString(key())] = value(depth: depth + 1) }
            return .object(o)
        }
    }

    public mutating func key() -> String {
        Bool.random(using: &rng) ? Self.keyPool.randomElement(using: &rng)! : "k\(Int.random(in: 0..<50, using: &rng))"
    }

    public mutating func string() -> String {
        if Int.random(in: 0..<3, using: &rng) == 0 { return Self.stringPool.randomElement(using: &rng)! }
        var s = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...8, using: &rng) {
            let ranges: [ClosedRange<UInt32>] = [
                0x20...0x7E, 0x0...0x1F, 0xA0...0x2FF, 0x300...0x36F, 0x4E00...0x4E80,
                0x1F600...0x1F64F, 0xFFF0...0xFFFF,
            ]
            let r = ranges.randomElement(using: &rng)!
            if let u = Unicode.Scalar(UInt32.random(in: r, using: &rng)) { s.append(u) }
        }
        return String(s)
    }

    /// The same value with every object's members in a random order.
    public mutating func shuffled(_ v: JSONValue) -> JSONValue {
        switch v {
        case .array(let a): return .array(a.map { shuffled($0) })
        case .object(let o):
            var members = o.members.map { ($0.key, shuffled($0.value)) }
            members.shuffle(using: &rng)
            return .object(JSONObject(members))
        default: return v
        }
    }
}
