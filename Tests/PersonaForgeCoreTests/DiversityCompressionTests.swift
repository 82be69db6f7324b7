import Foundation
import Testing
@testable import PersonaForgeCore

@Suite("Reference gzip compression ratio")
struct DiversityCompressionTests {
    static func accumulate(_ texts: [String]) -> CompressionRatioAccumulator {
        var accumulator = CompressionRatioAccumulator()
        for text in texts { accumulator.add(text) }
        return accumulator
    }

    /// Sizes from Python: `len(" ".join(texts).encode())` and the reference's
    /// double-gzip file with the inner mtime pinned to 0 (Tests/reference/metrics_agreement.py).
    @Test(arguments: [
        (["the cat sat on the mat", "the dog sat on the log"], 45, 77),
        ([String(repeating: "héllo wörld ", count: 50), "x"], 702, 73),
    ])
    func matchesPythonByteForByte(texts: [String], original: Int, compressed: Int) {
        let accumulator = Self.accumulate(texts)
        #expect(accumulator.originalByteCount == original)
        #expect(accumulator.referenceCompressedByteCount() == compressed)
        #expect(accumulator.ratio == Double(original) / Double(compressed))
    }

    @Test func recordBoundariesDoNotChangeTheResult() {
        let words = (0..<5_000).map { "word\($0 % 377)" }
        let asOne = Self.accumulate([words.joined(separator: " ")])
        let asMany = Self.accumulate(stride(from: 0, to: words.count, by: 7).map {
            words[$0..<min($0 + 7, words.count)].joined(separator: " ")
        })
        #expect(asOne.originalByteCount == asMany.originalByteCount)
        #expect(asOne.referenceCompressedByteCount() == asMany.referenceCompressedByteCount())
        #expect(asOne.singleGzipByteCount() == asMany.singleGzipByteCount())
        #expect(asOne.ratio > 5) // 377 distinct words repeat: very compressible
    }

    @Test func snapshottingDoesNotDisturbTheStream() {
        var probed = CompressionRatioAccumulator()
        var plain = CompressionRatioAccumulator()
        for index in 0..<200 {
            probed.add("record \(index) says something")
            plain.add("record \(index) says something")
            _ = probed.referenceCompressedByteCount()
            _ = probed.singleGzipByteCount()
        }
        #expect(probed.referenceCompressedByteCount() == plain.referenceCompressedByteCount())
    }

    @Test func emptyInputHasRatioZeroAndEmptyRecordsStillJoin() {
        #expect(CompressionRatioAccumulator().ratio == 0)
        #expect(Self.accumulate(["", ""]).originalByteCount == 1) // " ".join(["", ""]) == " "
    }

    @Test func mergeAndDecodeKeepTheFinishedSizes() throws {
        let left = Self.accumulate(["a b c", "d e f"])
        let right = Self.accumulate(["g h i"])
        var merged = left
        merged.merge(right)
        #expect(merged.originalByteCount == left.originalByteCount + 1 + right.originalByteCount)
        #expect(merged.referenceCompressedByteCount() == left.referenceCompressedByteCount() + right.referenceCompressedByteCount())
        #expect(merged.recordCount == 3)

        let decoded = try JSONDecoder().decode(CompressionRatioAccumulator.self, from: JSONEncoder().encode(merged))
        #expect(decoded.originalByteCount == merged.originalByteCount)
        #expect(decoded.referenceCompressedByteCount() == merged.referenceCompressedByteCount())
    }
}
