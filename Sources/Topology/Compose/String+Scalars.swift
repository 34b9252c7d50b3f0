/// Code-point level helpers: Swift's `String` methods compare by grapheme and canonical equivalence, while the
/// names coming from JSON must be handled code point by code point, as Python does.
extension String {
    /// Every occurrence of `target` (matched by UTF-8 bytes) replaced with `replacement`.
    func replacingScalars(_ target: String, with replacement: String) -> String {
        let hay = Array(utf8)
        let needle = Array(target.utf8)
        guard !needle.isEmpty, hay.count >= needle.count else { return self }
        var out: [UInt8] = []
        out.reserveCapacity(hay.count)
        var i = 0
        while i < hay.count {
            if i + needle.count <= hay.count, hay[i..<(i + needle.count)].elementsEqual(needle) {
                out.append(contentsOf: replacement.utf8)
                i += needle.count
            } else {
                out.append(hay[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Byte-exact equality (no canonical equivalence).
    func sameScalars(as other: String) -> Bool { utf8.elementsEqual(other.utf8) }

    /// Byte-exact prefix test.
    func hasScalarPrefix(_ prefix: String) -> Bool { utf8.starts(with: prefix.utf8) }

    /// Split at an ASCII separator byte, keeping empty parts.
    func splitScalars(_ separator: UInt8) -> [String] {
        utf8.split(separator: separator, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    /// `{decky}` placeholder of catalog templates replaced with the decky name.
    func replacingDecky(with decky: String) -> String { replacingScalars("{decky}", with: decky) }

    /// JSON Pointer escaping of one reference token.
    var jsonPointerEscaped: String { replacingScalars("~", with: "~0").replacingScalars("/", with: "~1") }

    /// Python's `needle in self` for two strings: a code-point substring test (the empty string is in every string).
    func containsScalars(_ needle: String) -> Bool {
        let hay = Array(utf8)
        let n = Array(needle.utf8)
        guard !n.isEmpty else { return true }
        guard hay.count >= n.count else { return false }
        for i in 0...(hay.count - n.count) where hay[i..<(i + n.count)].elementsEqual(n) { return true }
        return false
    }
}
