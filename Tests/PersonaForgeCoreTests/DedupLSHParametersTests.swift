import PersonaForgeCore
import Testing

@Suite("LSH parameters")
struct DedupLSHParametersTests {
    // (threshold, num_perm) → (b, r) from datasketch 2.0.0 `_optimal_param(t, k, 0.5, 0.5)`
    // (scipy quad integration), computed once and hard-coded.
    @Test(arguments: [
        (0.3, 64, 21, 3), (0.3, 128, 37, 3), (0.3, 256, 64, 4),
        (0.5, 64, 14, 4), (0.5, 128, 25, 5), (0.5, 256, 42, 6),
        (0.7, 64, 8, 8), (0.7, 128, 14, 9), (0.7, 256, 25, 10),
        (0.8, 64, 5, 11), (0.8, 128, 9, 13), (0.8, 256, 17, 15),
        (0.85, 64, 4, 15), (0.85, 128, 8, 16), (0.85, 256, 13, 19),
        (0.9, 64, 3, 21), (0.9, 128, 5, 25), (0.9, 256, 9, 28),
        (0.95, 64, 2, 32), (0.95, 128, 3, 42), (0.95, 256, 5, 51),
    ])
    func matchesDatasketch(threshold: Double, permutations: Int, bands: Int, rows: Int) throws {
        let parameters = try LSHParameters(threshold: threshold, permutationCount: permutations)
        #expect(parameters.bands == bands)
        #expect(parameters.rows == rows)
    }

    @Test func explicitLayoutIsValidated() throws {
        #expect(try LSHParameters(threshold: 0.8, bands: 16, rows: 8, permutationCount: 128).bands == 16)
        #expect(throws: MinHashParameterError.self) {
            try LSHParameters(threshold: 0.8, bands: 16, rows: 9, permutationCount: 128)
        }
        #expect(throws: MinHashParameterError.self) { try LSHParameters(threshold: 1.5, permutationCount: 128) }
    }

    @Test func sCurveRisesThroughTheThreshold() throws {
        let parameters = try LSHParameters(threshold: 0.8, permutationCount: 128)
        #expect(parameters.candidateProbability(similarity: 0.5) < 0.05)
        #expect(parameters.candidateProbability(similarity: 0.95) > 0.99)
        #expect(parameters.candidateProbability(similarity: 1) == 1)
    }
}
