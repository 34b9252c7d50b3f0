/// A JSON string compared by its Unicode code points.
///
/// Swift's `String ==` treats canonically equivalent strings as equal ("é" precomposed equals "e" + U+0301), while
/// Python and the canonical hash treat them as different. `JSONString` compares, hashes and orders by UTF-8 bytes,
/// which is the same as code-point order.
public struct JSONString: Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var value: String

    public init(_ value: String) { self.value = value }
    public init(stringLiteral value: String) { self.value = value }

    public var description: String { value }
    public var isEmpty: Bool { value.utf8.isEmpty }
}

extension JSONString: Hashable {
    public static func == (lhs: JSONString, rhs: JSONString) -> Bool {
        let left = lhs.value.utf8
        let right = rhs.value.utf8
        guard left.count == right.count else { return false }
        // Native strings compare as two byte buffers; a member lookup does this for every key it passes.
        let contiguous = left.withContiguousStorageIfAvailable { one in
            right.withContiguousStorageIfAvailable { other in one.elementsEqual(other) }
        }
        return (contiguous ?? nil) ?? left.elementsEqual(right)
    }

    public func hash(into hasher: inout Hasher) {
        var copy = value
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        hasher.combine(value.utf8.count)
    }
}

extension JSONString: Comparable {
    /// Code-point order (Python `str` comparison): UTF-8 bytes compared lexicographically.
    public static func < (lhs: JSONString, rhs: JSONString) -> Bool {
        lhs.value.utf8.lexicographicallyPrecedes(rhs.value.utf8)
    }
}
