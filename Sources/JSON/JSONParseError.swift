/// Why a text is not acceptable JSON. `code` is stable; `message` is for people.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case unexpectedEnd = "unexpected_end"
        case unexpectedCharacter = "unexpected_character"
        case invalidEscape = "invalid_escape"
        case controlCharacterInString = "control_character_in_string"
        case invalidUTF8 = "invalid_utf8"
        case loneSurrogate = "lone_surrogate"
        case integerTooLong = "integer_too_long"
        case nestingTooDeep = "nesting_too_deep"
        case trailingData = "trailing_data"
    }

    public var code: Code
    /// Byte offset into the input where the problem was found.
    public var offset: Int
    public var message: String

    public init(_ code: Code, at offset: Int, _ message: String) {
        self.code = code
        self.offset = offset
        self.message = message
    }

    public var description: String { "\(message) (at byte \(offset))" }
}
