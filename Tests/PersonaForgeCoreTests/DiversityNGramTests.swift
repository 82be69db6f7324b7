import Foundation
import Testing
@testable import PersonaForgeCore

@Suite("distinct-n and n-gram entropy")
struct DiversityNGramTests {
    static let catAndDog = ["the cat sat on the mat", "the dog sat on the log"]

    static func statistics(_ texts: [String], exactLimit: Int = 1 << 20) -> NGramStatistics {
        var statistics = NGramStatistics(maxOrder: 4, exactLimit: exactLimit, sketchPrecision: 14)
        for text in texts {
            for token in DiversityTokenizer.referenceTokens(text) { statistics.add(tokenHash: TextHash.hash(token)) }
        }
        return statistics
    }

    /// 12 tokens: the×4, sat×2, on×2, cat, mat, dog, log; n-grams span the record seam.
    @Test(arguments: [(1, 7, 12), (2, 9, 11), (3, 9, 10), (4, 9, 9)])
    func handComputedDistinctCounts(order: Int, distinct: Int, total: Int) {
        let statistics = Self.statistics(Self.catAndDog)
        #expect(statistics.total(order: order) == total)
        #expect(statistics.distinctCount(order: order) == Double(distinct))
        #expect(statistics.distinctRatio(order: order) == Double(distinct) / Double(total))
        #expect(statistics.isExact)
    }

    @Test func handComputedUnigramEntropy() {
        // H = log2 12 − (4·log2 4 + 2·log2 2 + 2·log2 2) / 12 = log2 12 − 1
        let entropy = Self.statistics(Self.catAndDog).entropy(order: 1)
        #expect(abs(entropy - (log2(12.0) - 1)) < 1e-12)
    }

    @Test func entropyOfUniformAndConstantStreams() {
        #expect(Self.statistics(["a a a a a"]).entropy(order: 1) == 0)
        #expect(abs(Self.statistics(["a b c d e f g h"]).entropy(order: 1) - 3) < 1e-12)
        #expect(Self.statistics([]).distinctRatio(order: 1) == 0)
        #expect(Self.statistics(["a b"]).distinctRatio(order: 4) == 0)
    }

    @Test(arguments: [1, 2, 3, 5, 7])
    func mergingSplitStreamsEqualsOneStream(splitAt: Int) {
        let texts = ["a b a", "c a b", "a", "b c a b", "", "c c a b a", "b"]
        var merged = Self.statistics(Array(texts[..<splitAt]))
        merged.merge(Self.statistics(Array(texts[splitAt...])))
        let whole = Self.statistics(texts)
        for order in 1...4 {
            #expect(merged.total(order: order) == whole.total(order: order))
            #expect(merged.distinctCount(order: order) == whole.distinctCount(order: order))
            #expect(abs(merged.entropy(order: order) - whole.entropy(order: order)) < 1e-12)
        }
        #expect(merged.tokenCount == whole.tokenCount)
    }

    @Test func sketchedDistinctAndSampledEntropyStayNearExactOnLargeStreams() {
        // 200,000 Zipf-ish tokens over 50,000 types, exact limit 4,096 per order.
        var generator = SplitMix(seed: 42)
        var tokens: [String] = []
        for _ in 0..<200_000 {
            let u = Double(generator.next() >> 11) / Double(1 << 53)
            tokens.append("t\(Int(pow(50_000.0, u)))")
        }
        let text = tokens.joined(separator: " ")
        let approximate = Self.statistics([text], exactLimit: 4096)
        let exact = Self.statistics([text])
        #expect(!approximate.isExact && exact.isExact)
        let sigma = 1.04 / (Double(1 << 14)).squareRoot()
        for order in 1...4 {
            let relative = abs(approximate.distinctCount(order: order) / exact.distinctCount(order: order) - 1)
            #expect(relative < 3 * sigma, "order \(order): \(relative)")
            #expect(abs(approximate.entropy(order: order) - exact.entropy(order: order)) / exact.entropy(order: order) < 0.02)
        }
    }
}

/// A deterministic test generator (SplitMix64).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return PortableHash.mix(state &- 0x9E37_79B9_7F4A_7C15)
    }
}
