import Foundation

/// Diversity of a set of embedding vectors (the math only; fetching the
/// embeddings from `/v1/embeddings` belongs to the caller).
///
/// - Mean pairwise cosine distance: the mean of `1 − cos(xᵢ, xⱼ)` over all
///   pairs `i < j` (0 for fewer than two vectors).
/// - Vendi score (Friedman & Dieng 2023) with the cosine-similarity kernel:
///   `exp(−Σ λ ln λ)` over the eigenvalues `λ` of `K / n`, `Kᵢⱼ = cos(xᵢ, xⱼ)`;
///   the effective number of distinct items, from 1 (all identical) to n
///   (pairwise orthogonal). Eigenvalues by Jacobi iteration: O(n³), fine for
///   samples up to a few hundred vectors.
public enum EmbeddingDiversity {
    /// The mean pairwise cosine distance of `vectors`.
    public static func meanPairwiseCosineDistance(_ vectors: [[Double]]) throws(EmbeddingDiversityError) -> Double {
        let similarity = try cosineSimilarityMatrix(vectors)
        let n = vectors.count
        guard n >= 2 else { return 0 }
        var sum = 0.0
        for i in 0..<n { for j in (i + 1)..<n { sum += 1 - similarity[i][j] } }
        return sum / Double(n * (n - 1) / 2)
    }

    /// The Vendi score of `vectors` under the cosine-similarity kernel (0 when empty).
    public static func vendiScore(_ vectors: [[Double]]) throws(EmbeddingDiversityError) -> Double {
        let similarity = try cosineSimilarityMatrix(vectors)
        let n = Double(vectors.count)
        guard n > 0 else { return 0 }
        let scaled = similarity.map { row in row.map { $0 / n } }
        var entropy = 0.0
        for eigenvalue in SymmetricEigenvalues.compute(scaled) where eigenvalue > 1e-12 {
            entropy -= eigenvalue * log(eigenvalue)
        }
        return exp(entropy)
    }

    /// `Kᵢⱼ = cos(xᵢ, xⱼ)` with `Kᵢᵢ = 1`.
    public static func cosineSimilarityMatrix(_ vectors: [[Double]]) throws(EmbeddingDiversityError) -> [[Double]] {
        guard let dimension = vectors.first?.count else { return [] }
        var normalized: [[Double]] = []
        normalized.reserveCapacity(vectors.count)
        for (index, vector) in vectors.enumerated() {
            guard vector.count == dimension else {
                throw EmbeddingDiversityError(message: "embedding \(index) has \(vector.count) dimensions, expected \(dimension) like embedding 0; use one model for all vectors")
            }
            let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0, norm.isFinite else {
                throw EmbeddingDiversityError(message: "embedding \(index) has zero or non-finite length; check the embedding response")
            }
            normalized.append(vector.map { $0 / norm })
        }
        let n = normalized.count
        var matrix = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            matrix[i][i] = 1
            for j in (i + 1)..<n {
                var dot = 0.0
                for k in 0..<dimension { dot += normalized[i][k] * normalized[j][k] }
                let clamped = min(1, max(-1, dot))
                matrix[i][j] = clamped
                matrix[j][i] = clamped
            }
        }
        return matrix
    }
}
