import Testing
@testable import PersonaForgeCore

@Suite("Repetition metric and words")
struct CurationRepetitionTests {
    @Test func ratioOnAHandComputedExample() {
        // 12 words, 10 trigrams; "the cat sat", "cat sat on", "sat on the" occur twice: 7 distinct.
        let text = "the cat sat on the mat the cat sat on the hat"
        #expect(RepetitionMetric.repeatedNgramRatio(of: text, n: 3) == 3.0 / 10.0)
        // Bigrams: 11, distinct: the-cat, cat-sat, sat-on, on-the, the-mat, mat-the, the-hat = 7.
        #expect(RepetitionMetric.repeatedNgramRatio(of: text, n: 2) == 4.0 / 11.0)
        // Unigrams: 12 words, 6 distinct (the, cat, sat, on, mat, hat).
        #expect(RepetitionMetric.repeatedNgramRatio(of: text, n: 1) == 6.0 / 12.0)
    }

    @Test func theASCIIPathAgreesWithTheGeneralPathOnRandomTexts() throws {
        // Words with case, outer and inner punctuation, digits, and tokens that are
        // not words ("--", "***"), separated by every ASCII whitespace byte.
        let vocabulary = ["the", "The", "THE", "cat,", "Cat", "(cat)", "don't", "Don't", "3.5", "35", "3-5", "--", "***",
                          "a", "A.", "\"a\"", "sat!", "sat", "sats", "ab", "ba", "x1", "X1", "...end", "end...", "e.n.d"]
        let separators = [" ", "  ", "\t", "\n", "\r\n", "\u{0B}", "\u{0C}"]
        var generator = ResilienceBackoffTests.SeededGenerator(seed: 11)
        for trial in 0..<400 {
            let count = Int.random(in: 0..<60, using: &generator)
            var text = String(repeating: " ", count: Int.random(in: 0..<2, using: &generator))
            for _ in 0..<count {
                text += vocabulary.randomElement(using: &generator)! + separators.randomElement(using: &generator)!
            }
            for n in 1...4 {
                let fast = text.utf8.withContiguousStorageIfAvailable { RepetitionMetric.asciiRatio(utf8: $0, n: n) }
                let expected = RepetitionMetric.repeatedNgramRatio(words: WordTokenizer.normalizedWords(in: text), n: n)
                #expect(fast == .some(.some(expected)), "trial \(trial), n \(n): \(text.debugDescription)")
            }
        }
    }

    @Test func nonASCIITextTakesTheGeneralPath() {
        let text = "Caf\u{E9} caf\u{E9} CAF\u{C9} na\u{EF}ve na\u{EF}ve na\u{EF}ve"
        #expect(text.utf8.withContiguousStorageIfAvailable { RepetitionMetric.asciiRatio(utf8: $0, n: 1) } == .some(nil))
        // "café" and "CAFÉ" are one word after lowercasing: 6 words, 2 distinct.
        #expect(RepetitionMetric.repeatedNgramRatio(of: text, n: 1) == 4.0 / 6.0)
    }

    @Test func noRepeatsIsZero() {
        #expect(RepetitionMetric.repeatedNgramRatio(of: "one two three four five six", n: 3) == 0)
    }

    @Test func oneLoopingPhraseApproachesOne() throws {
        let text = String(repeating: "again ", count: 102)
        // 100 identical trigrams: 99 repeats.
        #expect(RepetitionMetric.repeatedNgramRatio(of: text, n: 3) == 99.0 / 100.0)
    }

    @Test func caseAndOuterPunctuationAreIgnored() {
        let plain = RepetitionMetric.repeatedNgramRatio(of: "the cat sat the cat sat", n: 3)
        let decorated = RepetitionMetric.repeatedNgramRatio(of: "The cat, sat. THE CAT \"sat!\"", n: 3)
        #expect(plain == 1.0 / 4.0)
        #expect(decorated == plain)
    }

    @Test func shortTextsAreNotMeasured() {
        #expect(RepetitionMetric.minimumWordCount(n: 3) == 6)
        #expect(RepetitionMetric.repeatedNgramRatio(of: "a a a a a", n: 3) == nil)
        #expect(RepetitionMetric.repeatedNgramRatio(of: "a a a a a a", n: 3) == 3.0 / 4.0)
        #expect(RepetitionMetric.repeatedNgramRatio(of: "", n: 1) == nil)
    }

    @Test func largeNUsesTheExactFallbackAndAgreesWithPacking() {
        // 80 words alternating "a b": every n-gram is one of two.
        let words = (0..<80).map { $0.isMultiple(of: 2) ? "a" : "b" }
        // n = 33 needs 2 bits × 33 = 66 > 64: the slice-set path.
        #expect(RepetitionMetric.repeatedNgramRatio(words: words, n: 33) == 46.0 / 48.0)
        // n = 3 packs into one word: 78 trigrams, 2 distinct.
        #expect(RepetitionMetric.repeatedNgramRatio(words: words, n: 3) == 76.0 / 78.0)
    }

    @Test func manyDistinctWordsPackWithoutCollisions() {
        // 1000 distinct words need 10 bits each; no n-gram repeats. Twice over: 1995 6-grams, 1000 distinct.
        let words = (0..<1000).map { "w\($0)" }
        #expect(RepetitionMetric.repeatedNgramRatio(words: words, n: 6) == 0)
        #expect(RepetitionMetric.repeatedNgramRatio(words: words + words, n: 6) == 995.0 / 1995.0)
    }

    @Test func nBelowOneCountsAsOne() {
        #expect(RepetitionMetric.repeatedNgramRatio(words: ["a", "a", "b"], n: 0) == 1.0 / 3.0)
    }

    @Test func wordsNeedALetterOrDigit() {
        let text = "Hello, world — it's 3.5 o'clock *** !"
        #expect(WordTokenizer.words(in: text) == ["Hello,", "world", "it's", "3.5", "o'clock"])
        #expect(WordTokenizer.wordCount(in: text) == 5)
        #expect(WordTokenizer.normalizedWords(in: text) == ["hello", "world", "it's", "3.5", "o'clock"])
    }

    @Test func wordsSplitOnAnyWhitespace() {
        #expect(WordTokenizer.wordCount(in: "a\tb\nc\u{00A0}d  e") == 5)
        #expect(WordTokenizer.wordCount(in: "   ") == 0)
    }
}
