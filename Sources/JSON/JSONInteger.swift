/// An integer of any size, kept exactly as CPython keeps JSON integers.
///
/// Values that fit in `Int64` are stored natively; larger ones keep their canonical decimal digits (no leading zeros,
/// `-` for negatives, never `-0`), which is all the canonical encoder and the validator need.
public struct JSONInteger: Sendable, Hashable, CustomStringConvertible {
    enum Storage: Sendable, Hashable {
        case small(Int64)
        case big(String)
    }

    let storage: Storage

    public init(_ value: Int) { storage = .small(Int64(value)) }
    public init(_ value: Int64) { storage = .small(value) }

    /// Parses an optional `-` followed by ASCII digits. Returns nil for anything else.
    public init?(decimal text: Substring) {
        var digits = text[...]
        var negative = false
        if digits.first == "-" {
            negative = true
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        while digits.count > 1, digits.first == "0" { digits = digits.dropFirst() }
        if digits == "0" {
            storage = .small(0)
            return
        }
        if let v = Int64((negative ? "-" : "") + digits) {
            storage = .small(v)
        } else {
            storage = .big((negative ? "-" : "") + digits)
        }
    }

    public init?(decimal text: String) { self.init(decimal: text[...]) }

    /// The value when it fits in `Int`.
    public var intValue: Int? {
        if case .small(let v) = storage { return Int(exactly: v) }
        return nil
    }

    public var int64Value: Int64? {
        if case .small(let v) = storage { return v }
        return nil
    }

    public var isZero: Bool {
        if case .small(0) = storage { return true }
        return false
    }

    public var isNegative: Bool {
        switch storage {
        case .small(let v): return v < 0
        case .big(let s): return s.hasPrefix("-")
        }
    }

    /// Exact decimal digits, as Python's `str(int)` prints them.
    public var description: String {
        switch storage {
        case .small(let v): return String(v)
        case .big(let s): return s
        }
    }
}
