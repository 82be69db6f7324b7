import Foundation
import Testing
@testable import PersonaForgeCore

@Suite("Embedding diversity: cosine distance and Vendi score")
struct DiversityEmbeddingTests {
    @Test(arguments: [1, 2, 5, 30])
    func identicalVectorsHaveVendiOneAndDistanceZero(count: Int) throws {
        let vectors = Array(repeating: [0.3, -1.2, 2.0, 0.5], count: count)
        #expect(abs(try EmbeddingDiversity.vendiScore(vectors) - 1) < 1e-9)
        #expect(abs(try EmbeddingDiversity.meanPairwiseCosineDistance(vectors)) < 1e-12)
    }

    @Test(arguments: [2, 5, 30])
    func orthogonalVectorsHaveVendiN(count: Int) throws {
        let vectors = (0..<count).map { index in (0..<count).map { $0 == index ? 2.5 : 0 } }
        #expect(abs(try EmbeddingDiversity.vendiScore(vectors) - Double(count)) < 1e-9)
        #expect(abs(try EmbeddingDiversity.meanPairwiseCosineDistance(vectors) - 1) < 1e-12)
    }

    @Test func twoVectorsAtSixtyDegrees() throws {
        // cos = 1/2: eigenvalues of K/2 are 3/4 and 1/4.
        let vectors = [[1.0, 0], [0.5, 3.0.squareRoot() / 2]]
        let expected = exp(-(0.75 * log(0.75) + 0.25 * log(0.25)))
        #expect(abs(try EmbeddingDiversity.vendiScore(vectors) - expected) < 1e-9)
        #expect(abs(try EmbeddingDiversity.meanPairwiseCosineDistance(vectors) - 0.5) < 1e-12)
    }

    @Test func jacobiFindsKnownEigenvalues() {
        let values = SymmetricEigenvalues.compute([[2, 1, 0], [1, 2, 0], [0, 0, 5]])
        #expect(zip(values, [1.0, 3, 5]).allSatisfy { abs($0 - $1) < 1e-10 })
    }

    @Test func mismatchedDimensionsAndZeroVectorsAreErrors() {
        #expect(throws: EmbeddingDiversityError.self) { try EmbeddingDiversity.vendiScore([[1, 0], [1, 0, 0]]) }
        #expect(throws: EmbeddingDiversityError.self) { try EmbeddingDiversity.vendiScore([[0, 0]]) }
        #expect((try? EmbeddingDiversity.vendiScore([])) == 0)
    }
}
