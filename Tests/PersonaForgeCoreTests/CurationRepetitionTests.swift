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
