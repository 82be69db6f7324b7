import Foundation
import Testing
@testable import PersonaForgeCore

@Suite("DiversityAccumulator: streaming, merging, persisting")
struct DiversityAccumulatorTests {
    static let corpus: [String] = (0..<120).map { index in
        "Persona \(index % 17) writes about topic \(index % 5): the same phrase repeats, and \(index * 7919 % 1000) varies."
    }

    static func accumulate(_ texts: some Sequence<String>) -> DiversityAccumulator {
        var accumulator = DiversityAccumulator()
        for text in texts { accumulator.add(text) }
        return accumulator
    }

    @Test func snapshotHasEveryMetricAndHandComputedValues() {
        let metrics = Self.accumulate(["the cat sat on the mat", "the dog sat on the log"]).snapshot()
        #expect(metrics["records"] == 2)
        #expect(metrics["tokens"] == 12)
        #expect(metrics["distinct_1"] == 7.0 / 12)
        #expect(metrics["ngram_diversity_score"] == 7.0 / 12 + 9.0 / 11 + 9.0 / 10 + 1)
        #expect(metrics["compression_ratio"] == 45.0 / 77)
        #expect(metrics["words_mean"] == 6)
        #expect(metrics["chars_max"] == 22)
        for name in ["entropy_4", "self_repetition_score", "homogenization_rougel", "words_p99", "exact_ngrams"] {
            #expect(metrics[name] != nil, "missing \(name)")
        }
        #expect(metrics.values.values.allSatisfy { $0.isFinite })
    }

    @Test func emptyAccumulatorSnapshotsToFiniteZeros() {
        let metrics = DiversityAccumulator().snapshot()
        #expect(metrics["records"] == 0)
        #expect(metrics.values.values.allSatisfy { $0.isFinite })
    }

    @Test(arguments: [1, 60, 119])
    func mergingShardsInOrderEqualsOneStream(splitAt: Int) {
        var merged = Self.accumulate(Self.corpus[..<splitAt])
        merged.merge(Self.accumulate(Self.corpus[splitAt...]))
        let whole = Self.accumulate(Self.corpus).snapshot()
        let mergedMetrics = merged.snapshot()
        for name in whole.values.keys where !name.hasPrefix("compression") {
            #expect(abs(mergedMetrics[name]! - whole[name]!) < 1e-9, "\(name): \(mergedMetrics[name]!) vs \(whole[name]!)")
        }
        #expect(mergedMetrics["compression_original_bytes"] == whole["compression_original_bytes"])
    }

    @Test func persistedStateResumesWithTheSameSnapshot() throws {
        let half = Self.accumulate(Self.corpus[..<60])
        var restored = try JSONDecoder().decode(DiversityAccumulator.self, from: JSONEncoder().encode(half))
        #expect(restored.snapshot() == half.snapshot())
        for text in Self.corpus[60...] { restored.add(text) }
        let whole = Self.accumulate(Self.corpus).snapshot()
        #expect(restored.snapshot()["distinct_4"] == whole["distinct_4"])
        #expect(restored.snapshot()["self_repetition_score"] == whole["self_repetition_score"])
    }

    @Test func metricsEncodeAsOneFlatObject() throws {
        let metrics = DiversityMetrics(values: ["distinct_1": 0.5, "records": 2])
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(metrics)) as? [String: Double]
        #expect(json == ["distinct_1": 0.5, "records": 2])
        #expect(metrics.orderedNames == ["records", "distinct_1"])
    }

    @Test func sameSeedSameSampleDifferentSeedDifferentSample() {
        var configuration = DiversityConfiguration()
        configuration.homogenizationSampleSize = 5
        var first = DiversityAccumulator(configuration: configuration)
        var second = DiversityAccumulator(configuration: configuration)
        configuration.seed = 99
        var reseeded = DiversityAccumulator(configuration: configuration)
        for text in Self.corpus {
            first.add(text); second.add(text); reseeded.add(text)
        }
        #expect(first.homogenizationSample.elements == second.homogenizationSample.elements)
        #expect(first.homogenizationSample.elements != reseeded.homogenizationSample.elements)
        #expect(first.snapshot()["exact_homogenization"] == 0)
    }
}
