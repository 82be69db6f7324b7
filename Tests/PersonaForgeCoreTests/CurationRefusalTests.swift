import Testing
@testable import PersonaForgeCore

@Suite("Refusal detection")
struct CurationRefusalTests {
    @Test(arguments: [
        "I'm sorry, but I can't assist with that.",
        "I\u{2019}m sorry, but I can\u{2019}t help with that.",  // curly apostrophes
        "I can\u{2018}t assist with this request.",  // left single quotation mark
        "I can\u{02BC}t comply.",  // modifier letter apostrophe
        "I cannot help with creating that content.",
        "As an AI language model, I don't have personal experiences.",
        "**I'm sorry**, but I cannot fulfill this request.",
        "  \n\nI apologize, but I won't write that.",
        "Sorry, I can't do that.",
        "I am unable to provide that information.",
        "I\u{2019}m unable to comply with this request.",
        "I CANNOT ASSIST WITH THAT.",
        "Unfortunately, I must decline.",
        "I'm   sorry,\nbut I  can't   help with that.",  // odd whitespace
        "Thank you for asking. I'm not able to generate content like that.",
    ])
    func recognizesRefusal(_ text: String) {
        #expect(RefusalDetector.isRefusal(text))
    }

    @Test(arguments: [
        "I can't help but smile when I think of my grandmother's kitchen.",
        "I am unable to forget that summer in Lisbon.",
        "Sorry for the wait! Here is the poem you asked for.",
        "As an AI researcher, I spend my days reading papers.",
        "Hi can't assist...",  // "i can't assist" inside a word: no word boundary
        "I cannot assistantly do anything.",  // phrase continues into a longer word
        "The bakery opens at six; I can't wait.",
        "",
    ])
    func ignoresNonRefusal(_ text: String) {
        #expect(!RefusalDetector.isRefusal(text))
    }

    @Test func onlyTheStartIsExamined() {
        let phrase = "I can't assist with that."
        // "I can't assist" (14 characters) ends 5 characters before the end of the window.
        let inside = String(repeating: "x", count: RefusalDetector.window - 20) + " " + phrase
        let outside = String(repeating: "x", count: RefusalDetector.window) + " " + phrase
        #expect(RefusalDetector.isRefusal(inside))
        #expect(!RefusalDetector.isRefusal(outside))
    }

    @Test func leadingWhitespaceDoesNotUseUpTheWindow() {
        let text = String(repeating: " ", count: 500) + "I can't assist with that."
        #expect(RefusalDetector.isRefusal(text))
    }

    @Test func matchedPhraseIsReported() {
        #expect(RefusalDetector.matchedPhrase(in: "I\u{2019}m sorry, but I can\u{2019}t") == "sorry, but i can't")
        #expect(RefusalDetector.matchedPhrase(in: "A story about a lighthouse keeper.") == nil)
    }

    @Test func phrasesAreNormalized() {
        for phrase in RefusalDetector.phrases {
            #expect(phrase == phrase.lowercased())
            #expect(!phrase.contains("\u{2019}"))
            #expect(!phrase.contains("  "))
        }
        #expect(Set(RefusalDetector.phrases).count == RefusalDetector.phrases.count)
    }
}
