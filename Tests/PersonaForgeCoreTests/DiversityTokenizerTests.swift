import Testing
@testable import PersonaForgeCore

@Suite("Diversity tokenizers mirror the reference")
struct DiversityTokenizerTests {
    @Test(arguments: [
        ("a b", ["a", "b"]),
        ("a  b", ["a", "", "b"]),
        (" a\nb ", ["", "a\nb", ""]),
        ("", [""]),
        ("e\u{301} x", ["e\u{301}", "x"]),
        (" \u{301}x", ["", "\u{301}x"]),
    ])
    func referenceTokensSplitOnSpaceOnly(text: String, expected: [String]) {
        #expect(DiversityTokenizer.referenceTokens(text).map(String.init) == expected)
    }

    @Test(arguments: [
        ("a b", ["a", "b"]),
        ("  a \t\n b\u{00A0}c\u{3000} ", ["a", "b", "c"]),
        ("", []),
        ("\r\n", []),
    ])
    func wordsSplitLikePythonStrSplit(text: String, expected: [String]) {
        #expect(DiversityTokenizer.words(text).map(String.init) == expected)
    }

    @Test func rougeTokensAreLowercaseAlphanumericRuns() {
        #expect(DiversityTokenizer.rougeTokens("Hello, World-42! ça") == ["hello", "world", "42", "a"])
        #expect(DiversityTokenizer.rougeTokens("...") == [])
    }

    @Test func textHashComparesBytesNotCanonicalEquivalence() {
        let composed = "\u{E9}"
        let decomposed = "e\u{301}"
        #expect(composed == decomposed) // Swift's String equality...
        #expect(TextHash.hash(composed) != TextHash.hash(decomposed)) // ...is not Python's.
        #expect(TextHash.hash("abc") == TextHash.hash("abc"))
        #expect(TextHash.hash("") != TextHash.hash("\0"))
        #expect(TextHash.hash("12345678") != TextHash.hash("12345678\0"))
    }
}
