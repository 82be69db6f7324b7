import PersonaForgeCore
import Testing

@Suite("MinHash text normalization and shingling")
struct MinHashNormalizationTests {
    let hasher = MinHasher(parameters: try! MinHashParameters(ngramSize: 3))

    @Test(arguments: [
        ("Hello,   World!", ["hello", "world"]),
        ("  tabs\tand\nnew\r\nlines  ", ["tabs", "and", "new", "lines"]),
        ("don't stop-believing", ["don", "t", "stop", "believing"]),
        ("ÉCOLE Ünïcödé ΣΟΦΊΑ", ["école", "ünïcödé", "σοφία"]),
        ("Version 2.0 costs $30", ["version", "2", "0", "costs", "30"]),
        ("emoji 🎉 split", ["emoji", "split"]),
        ("中文 words", ["中文", "words"]),
        ("İstanbul", ["i\u{307}stanbul"]),
        ("", []),
        ("?!… — ...", []),
    ])
    func normalizedWords(text: String, expected: [String]) {
        #expect(hasher.normalizedWords(of: text) == expected)
    }

    @Test func punctuationCaseAndSpacingDoNotChangeSignatures() {
        let a = hasher.signature(of: "The Quick, brown fox -- jumps over the LAZY dog.")
        let b = hasher.signature(of: "the quick brown fox jumps over the lazy dog")
        #expect(a == b)
    }

    @Test func shinglesAreWordNGrams() {
        #expect(hasher.shingles(of: "a b c d") == ["a b c", "b c d"])
        #expect(hasher.shingleHashes(of: "a b c d").count == 2)
    }

    @Test func shortDocumentIsOneShingleOfAllWords() {
        #expect(hasher.shingles(of: "Two words") == ["two words"])
        #expect(hasher.shingleHashes(of: "Two words").count == 1)
        #expect(hasher.signature(of: "two words") != hasher.signature(of: "words two"))
    }

    @Test func wordOrderMattersInsideShingles() {
        #expect(hasher.shingleHashes(of: "a b c") != hasher.shingleHashes(of: "c b a"))
    }

    @Test func emptyDocumentsGetTheEmptySignature() {
        let empty = hasher.signature(of: " ... ")
        #expect(empty == .empty(permutationCount: 128))
        #expect(empty.isEmptySet)
        #expect(hasher.shingleHashes(of: "").isEmpty)
        #expect(empty.estimatedJaccard(with: hasher.signature(of: "")) == 1)
        #expect(empty.estimatedJaccard(with: hasher.signature(of: "some real words here")) < 0.05)
    }

    @Test func invalidParametersAreRejectedWithAMessage() {
        #expect(throws: MinHashParameterError.self) { try MinHashParameters(ngramSize: 0) }
        #expect(throws: MinHashParameterError.self) { try MinHashParameters(permutationCount: 0) }
    }
}
