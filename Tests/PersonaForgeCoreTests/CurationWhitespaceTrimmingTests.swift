import Foundation
import PersonaForgeCore
import Testing

@Suite struct CurationWhitespaceTrimmingTests {
    @Test(arguments: [
        "", " ", "\n\t\r ", "plain", "  both ends \n", "\u{00A0}nbsp\u{00A0}", "\u{2028}line sep\u{2029}",
        "\u{0085}nel\u{3000}", "inner  \n  space kept", "é\u{301} combining ", " 🧪 emoji\n", "\u{FEFF}bom is not space",
        "\u{200B}zero width", "\u{000B}vt\u{000C}",
    ])
    func trimsWhatFoundationTrims(_ text: String) {
        #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
