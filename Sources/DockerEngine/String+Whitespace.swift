extension StringProtocol {
    /// The text without leading and trailing white space and line breaks: Foundation's
    /// `trimmingCharacters(in: .whitespacesAndNewlines)`, whose set is Unicode's `White_Space` property plus
    /// U+200B ZERO WIDTH SPACE (once a space separator, still in Foundation's set). Here so this module needs no
    /// Foundation.
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.isFoundationWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.isFoundationWhitespace })!
        var trimmed = String.UnicodeScalarView()
        trimmed.append(contentsOf: scalars[first...last])
        return String(trimmed)
    }
}

extension Unicode.Scalar {
    /// Whether Foundation's `CharacterSet.whitespacesAndNewlines` holds this scalar.
    var isFoundationWhitespace: Bool { properties.isWhitespace || value == 0x200B }
}
