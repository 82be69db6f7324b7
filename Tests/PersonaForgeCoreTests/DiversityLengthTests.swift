import Testing
@testable import PersonaForgeCore

@Suite("Length distribution")
struct DiversityLengthTests {
    @Test func handComputedExactStatistics() {
        var distribution = LengthDistribution()
        for value in [10, 1, 3, 2, 4] { distribution.add(value) }
        #expect(distribution.moments.count == 5)
        #expect(distribution.moments.mean == 4)
        #expect(abs(distribution.moments.standardDeviation - 10.0.squareRoot()) < 1e-12)
        #expect(distribution.moments.minimum == 1 && distribution.moments.maximum == 10)
        // numpy.percentile (linear): positions 2, 3.6, 3.96 of the sorted values.
        #expect(distribution.percentile(0.5) == 3)
        #expect(abs(distribution.percentile(0.9) - 7.6) < 1e-12)
        #expect(abs(distribution.percentile(0.99) - 9.76) < 1e-12)
    }

    @Test(arguments: [0.5, 0.9, 0.99])
    func histogramPercentilesAreWithinTheDocumentedRelativeError(q: Double) {
        var distribution = LengthDistribution(exactLimit: 10)
        for value in 1...100_000 { distribution.add(value) }
        #expect(!distribution.isExact)
        let exact = q * 100_000
        #expect(abs(distribution.percentile(q) / exact - 1) < 1.0 / 128 + 1e-4)
        #expect(distribution.moments.mean == 50_000.5)
    }

    @Test func histogramBucketsRoundTrip() {
        for value in [0, 1, 127, 128, 129, 255, 256, 1_000, 123_456_789] {
            let range = LogBucketHistogram.range(of: LogBucketHistogram.bucket(of: value))
            #expect(range.contains(value))
            #expect(Double(range.count) <= max(1, Double(range.lowerBound) / 64))
        }
    }

    @Test func mergedMomentsEqualSequentialOnes() {
        var left = RunningMoments()
        var right = RunningMoments()
        var all = RunningMoments()
        for value in 0..<1_000 {
            let x = Double((value * 37) % 101)
            if value < 300 { left.add(x) } else { right.add(x) }
            all.add(x)
        }
        left.merge(right)
        #expect(left.count == all.count && left.minimum == all.minimum && left.maximum == all.maximum)
        #expect(abs(left.mean - all.mean) < 1e-9)
        #expect(abs(left.standardDeviation - all.standardDeviation) < 1e-9)
    }
}
