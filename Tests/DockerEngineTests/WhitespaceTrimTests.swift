import Foundation
import Testing

@testable import DockerEngine

/// `trimmingWhitespace()` replaced Foundation's `trimmingCharacters(in: .whitespacesAndNewlines)` in the client's
/// error previews and build output: same set, same trimming.
@Suite struct WhitespaceTrimTests {
    @Test func theSetIsFoundationsWhitespacesAndNewlines() {
        var differing: [UInt32] = []
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            if scalar.isFoundationWhitespace != CharacterSet.whitespacesAndNewlines.contains(scalar) {
                differing.append(value)
            }
        }
        #expect(differing == [])
    }

    @Test(arguments: [
        "", " ", "\n\t\r\u{0B}\u{0C}\u{85}", "abc", "  abc  ", "\u{3000}a b\u{2028}", "\u{A0}\u{1680}x\u{2029}\u{202F}",
        "x\u{200B}", "\u{FEFF}x", "e\u{301} \n", " \u{301}x", "Successfully built 0123abcd\n",
        "{\"message\":\"no such image\"}\n\n",
    ])
    func trimsAsFoundationDoes(_ text: String) {
        #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespacesAndNewlines))
        let substring = ("#" + text + "#").dropFirst().dropLast()
        #expect(substring.trimmingWhitespace() == substring.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
