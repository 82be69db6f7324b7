import Foundation
import Testing
@testable import PersonaForgeCore

@Suite("Self-repetition score")
struct DiversitySelfRepetitionTests {
    static func score(_ texts: [String], recordLimit: Int = 10_000, ngramLimit: Int = 1 << 20) -> SelfRepetitionAccumulator {
        var accumulator = SelfRepetitionAccumulator(order: 4, recordLimit: recordLimit, ngramLimit: ngramLimit)
        for text in texts { accumulator.add(text, recordHash: TextHash.hash(text)) }
        return accumulator
    }

    @Test func handComputedScore() {
        // df(abcd) = 2, df(bcde) = 1, df(xyzw) = 1 → per record ln 2, ln 2, ln 1.
        let accumulator = Self.score(["a b c d e", "a  b c\nd", "x y z w"])
        #expect(accumulator.isExact)
        #expect(abs(accumulator.score - 2 * log(2.0) / 3) < 1e-12)
    }

    @Test func repeatedNGramsWithinOneRecordCountOnce() {
        #expect(Self.score(["a b c d a b c d", "q r s t"]).score == 0)
        #expect(Self.score(["a b c"]).score == 0)
        #expect(Self.score([]).score == 0)
    }

    @Test func identicalRecordsScoreLogOfTheirSharedNGrams() {
        // 3 copies of 5 words: 2 distinct 4-grams each seen in 2 other records → ln(1 + 4).
        let accumulator = Self.score(Array(repeating: "one two three four five", count: 3))
        #expect(abs(accumulator.score - log(5.0)) < 1e-12)
    }

    @Test(arguments: [1, 4, 9])
    func mergeEqualsOneStream(splitAt: Int) {
        let texts = (0..<12).map { "w\($0 % 3) w\($0 % 4) shared words here and \($0 % 5) more" }
        var merged = Self.score(Array(texts[..<splitAt]))
        merged.merge(Self.score(Array(texts[splitAt...])))
        #expect(abs(merged.score - Self.score(texts).score) < 1e-12)
        #expect(merged.isExact)
    }

    @Test func sampledRecordsReportNotExact() {
        let texts = (0..<50).map { "record number \($0) with shared tail words" }
        let sampled = Self.score(texts, recordLimit: 10)
        #expect(!sampled.isExact)
        #expect(sampled.recordCount == 50)
        #expect(sampled.score > 0)
    }
}
