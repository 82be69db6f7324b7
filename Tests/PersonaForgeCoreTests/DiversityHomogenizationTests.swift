import Testing
@testable import PersonaForgeCore

@Suite("ROUGE-L homogenization and the bottom-k sample")
struct DiversityHomogenizationTests {
    static func dynamicProgrammingLCS(_ a: [Int], _ b: [Int]) -> Int {
        var previous = [Int](repeating: 0, count: b.count + 1)
        for x in a {
            var current = [0]
            for (j, y) in b.enumerated() {
                current.append(x == y ? previous[j] + 1 : max(previous[j + 1], current[j]))
            }
            previous = current
        }
        return previous[b.count]
    }

    @Test(arguments: [(5, 7), (64, 64), (65, 130), (200, 150), (1, 300)])
    func bitParallelLCSMatchesDynamicProgramming(firstLength: Int, secondLength: Int) {
        var generator = SplitMix(seed: UInt64(firstLength * 1_000 + secondLength))
        for alphabet in [2, 5, 40] {
            let a = (0..<firstLength).map { _ in Int(generator.next() % UInt64(alphabet)) }
            let b = (0..<secondLength).map { _ in Int(generator.next() % UInt64(alphabet)) }
            #expect(RougeL.PatternMasks(a).longestCommonSubsequence(with: b) == Self.dynamicProgrammingLCS(a, b))
        }
    }

    @Test func fMeasureIsTwiceLCSOverTotalLength() {
        #expect(RougeL.fMeasure([1, 2, 3], [1, 3]) == 0.8)
        #expect(RougeL.fMeasure([], [1]) == 0)
        #expect(RougeL.fMeasure([4, 4], [4, 4]) == 1)
    }

    @Test func handComputedHomogenizationScore() {
        // Pairs: (cat sat, cat ran) 2·2/6; (cat sat, dog) 0; (cat ran, dog) 0 → mean 2/9.
        var configuration = DiversityConfiguration()
        configuration.homogenizationSampleSize = 10
        var accumulator = DiversityAccumulator(configuration: configuration)
        for text in ["The cat sat.", "the CAT ran!", "dog"] { accumulator.add(text) }
        #expect(abs(accumulator.homogenizationScore - 2.0 / 9) < 1e-12)
        #expect(accumulator.snapshot()["exact_homogenization"] == 1)
    }

    @Test func sampleIsOrderIndependentAndMergeable() {
        let keys: [UInt64] = (0..<100).map { PortableHash.mix($0) }
        var forward = BottomKSample<Int>(capacity: 10)
        var backward = BottomKSample<Int>(capacity: 10)
        for (index, key) in keys.enumerated() { forward.offer(key: key) { index } }
        for (index, key) in keys.enumerated().reversed() { backward.offer(key: key) { index } }
        #expect(forward.entries == backward.entries)
        #expect(forward.entries.map(\.key) == keys.sorted().prefix(10).map { $0 })

        var left = BottomKSample<Int>(capacity: 10)
        var right = BottomKSample<Int>(capacity: 10)
        for (index, key) in keys.enumerated() {
            if index.isMultiple(of: 2) { left.offer(key: key) { index } } else { right.offer(key: key) { index } }
        }
        left.merge(right)
        #expect(left.entries == forward.entries)
        #expect(left.offeredCount == 100 && !left.isComplete)
    }
}
