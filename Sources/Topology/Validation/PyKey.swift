import DecnetJSON

/// A JSON value used where DECNET's Python validator puts values into a `dict` or `set` (ids, names, IPs, services).
///
/// Equality follows Python: numbers compare by value across types (`1 == 1.0 == true`, `0 == 0.0 == -0.0 == false`,
/// `10**20 == 1e20`), strings compare by exact code points and never equal numbers, and `None` equals only `None`.
/// NaN: `json.loads` hands out one shared NaN object and dict/set lookups check identity before `==`, so every NaN
/// that arrives in a JSON document finds every other one; `PyKey` therefore treats NaN keys as equal to each other
/// and to nothing else. Arrays and objects are unhashable in Python (`TypeError`), so they have no key (`nil`).
struct PyKey: Hashable, Sendable {
    enum Kind: Hashable, Sendable {
        case none
        /// Every integral number: ints, bools and floats with an integral value, in `JSONInteger`'s canonical form.
        case integer(JSONInteger)
        /// Finite non-integral floats and the two infinities, by bit pattern (no `-0.0` here: it is integral).
        case real(UInt64)
        case nan
        case string(JSONString)
    }

    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    init(string: JSONString) { kind = .string(string) }

    /// The key Python would hash for `value`, or `nil` when Python raises `TypeError: unhashable type`.
    init?(_ value: JSONValue) {
        switch value {
        case .null: kind = .none
        case .bool(let b): kind = .integer(JSONInteger(b ? 1 : 0))
        case .integer(let i): kind = .integer(i)
        case .float(let d): kind = PyKey.kind(of: d)
        case .string(let s): kind = .string(s)
        case .array, .object: return nil
        }
    }

    private static func kind(of d: Double) -> Kind {
        if d.isNaN { return .nan }
        if d.isInfinite || d.rounded(.towardZero) != d { return .real(d.bitPattern) }
        if let small = Int64(exactly: d) { return .integer(JSONInteger(small)) }
        return .integer(exactInteger(d))
    }

    /// The exact integer value of an integral double outside the `Int64` range (|d| ≥ 2⁶³), as Python's
    /// `int(d)` would give it: significand × 2^shift, computed in base-10⁹ limbs.
    static func exactInteger(_ d: Double) -> JSONInteger {
        let significand = (UInt64(1) << 52) | d.significandBitPattern
        var shift = Int(d.exponent) - 52
        var limbs: [UInt64] = []  // little-endian, base 10⁹
        var m = significand
        while m > 0 {
            limbs.append(m % 1_000_000_000)
            m /= 1_000_000_000
        }
        while shift > 0 {
            let step = min(shift, 29)  // limb < 10⁹ < 2³⁰, so limb << 29 plus carry stays below 2⁶⁴
            shift -= step
            var carry: UInt64 = 0
            for i in limbs.indices {
                let v = (limbs[i] << UInt64(step)) + carry
                limbs[i] = v % 1_000_000_000
                carry = v / 1_000_000_000
            }
            while carry > 0 {
                limbs.append(carry % 1_000_000_000)
                carry /= 1_000_000_000
            }
        }
        var text = d < 0 ? "-" : ""
        text += String(limbs.last ?? 0)
        for limb in limbs.dropLast().reversed() {
            let digits = String(limb)
            text += String(repeating: "0", count: 9 - digits.count) + digits
        }
        // The text is a well-formed decimal integer by construction.
        return JSONInteger(decimal: text)!
    }
}

extension JSONValue {
    /// What `for x in value` yields in Python: an array's elements, an object's keys, a string's code points (each
    /// as a one-character string); `nil` for null, numbers and booleans (`TypeError: object is not iterable`).
    /// Lazy, so a megabyte-long string is not copied into a million values up front.
    var pythonIteration: PythonIteration? {
        switch self {
        case .array(let elements): return .elements(elements)
        case .object(let object): return .keys(object.keys)
        case .string(let s): return .characters(s.value.unicodeScalars)
        case .null, .bool, .integer, .float: return nil
        }
    }
}

/// The elements Python's iteration protocol yields for a JSON value; see `JSONValue.pythonIteration`.
enum PythonIteration: Sequence {
    case elements([JSONValue])
    case keys([JSONString])
    case characters(String.UnicodeScalarView)

    struct Iterator: IteratorProtocol {
        fileprivate var step: () -> JSONValue?
        mutating func next() -> JSONValue? { step() }
    }

    func makeIterator() -> Iterator {
        switch self {
        case .elements(let a):
            var it = a.makeIterator()
            return Iterator { it.next() }
        case .keys(let k):
            var it = k.makeIterator()
            return Iterator { it.next().map { .string($0) } }
        case .characters(let scalars):
            var it = scalars.makeIterator()
            return Iterator { it.next().map { .string(JSONString(String($0))) } }
        }
    }
}
