/// Locality-sensitive hashing layout: a signature's first `bands × rows`
/// values are cut into `bands` bands of `rows` values; two records become
/// candidates when they agree on every value of at least one band, and a
/// candidate counts as a near-duplicate when its estimated Jaccard similarity
/// is at least `threshold`.
///
/// Two records with Jaccard similarity s become candidates with probability
/// 1 − (1 − sʳ)ᵇ (the "S-curve").
public struct LSHParameters: Sendable, Hashable {
    /// Estimated Jaccard similarity at or above which a candidate is a near-duplicate.
    public var threshold: Double
    /// Number of bands (band keys per record).
    public var bands: Int
    /// Signature values per band.
    public var rows: Int

    /// Explicit bands and rows.
    ///
    /// - Throws: `MinHashParameterError` if `threshold` is outside 0...1, or
    ///   `bands × rows` exceeds `permutationCount`.
    public init(threshold: Double, bands: Int, rows: Int, permutationCount: Int) throws {
        guard threshold >= 0, threshold <= 1 else {
            throw MinHashParameterError(message: "threshold \(threshold) is out of range: use a Jaccard similarity in 0...1")
        }
        guard bands >= 1, rows >= 1, bands * rows <= permutationCount else {
            throw MinHashParameterError(
                message: "\(bands) bands × \(rows) rows need \(bands * rows) permutations but signatures have "
                    + "\(permutationCount): lower bands or rows, or raise the permutation count")
        }
        self.threshold = threshold
        self.bands = bands
        self.rows = rows
    }

    /// Bands and rows that minimize the weighted false-positive plus
    /// false-negative probability for `threshold` — the same choice as
    /// datasketch's `MinHashLSH` (`_optimal_param`, weights 0.5/0.5).
    ///
    /// The false-positive probability is the area under the S-curve on
    /// [0, threshold]; the false-negative probability is the area above it on
    /// [threshold, 1]; both are integrated with composite Simpson's rule.
    ///
    /// - Throws: `MinHashParameterError` if `threshold` is outside 0...1 or the weights are negative.
    public init(
        threshold: Double,
        permutationCount: Int,
        falsePositiveWeight: Double = 0.5,
        falseNegativeWeight: Double = 0.5
    ) throws {
        guard threshold >= 0, threshold <= 1 else {
            throw MinHashParameterError(message: "threshold \(threshold) is out of range: use a Jaccard similarity in 0...1")
        }
        guard permutationCount >= 1 else {
            throw MinHashParameterError(message: "permutation count \(permutationCount) must be at least 1")
        }
        guard falsePositiveWeight >= 0, falseNegativeWeight >= 0 else {
            throw MinHashParameterError(message: "false-positive and false-negative weights must not be negative")
        }
        var best = (error: Double.infinity, bands: 1, rows: 1)
        for bands in 1...permutationCount {
            for rows in 1...(permutationCount / bands) {
                let b = Double(bands), r = Double(rows)
                let falsePositive = Self.integrate(from: 0, to: threshold) { s in
                    1 - pow1m(s, r, b)
                }
                let falseNegative = Self.integrate(from: threshold, to: 1) { s in
                    pow1m(s, r, b)
                }
                let error = falsePositive * falsePositiveWeight + falseNegative * falseNegativeWeight
                if error < best.error { best = (error, bands, rows) }
            }
        }
        self.threshold = threshold
        self.bands = best.bands
        self.rows = best.rows
    }

    /// Probability that two records with Jaccard similarity `similarity` become candidates.
    public func candidateProbability(similarity: Double) -> Double {
        1 - pow1m(similarity, Double(rows), Double(bands))
    }

    /// Composite Simpson's rule with 1,024 intervals (error far below the gaps between choices).
    static func integrate(from lower: Double, to upper: Double, _ f: (Double) -> Double) -> Double {
        guard upper > lower else { return 0 }
        let intervals = 1024
        let h = (upper - lower) / Double(intervals)
        var sum = f(lower) + f(upper)
        for i in 1..<intervals {
            sum += f(lower + Double(i) * h) * (i % 2 == 1 ? 4 : 2)
        }
        return sum * h / 3
    }
}

/// (1 − sʳ)ᵇ without Foundation: exponentiation by squaring for the integer powers.
@inline(__always)
private func pow1m(_ s: Double, _ r: Double, _ b: Double) -> Double {
    integerPower(1 - integerPower(s, Int(r)), Int(b))
}

@inline(__always)
private func integerPower(_ base: Double, _ exponent: Int) -> Double {
    var result = 1.0, factor = base, e = exponent
    while e > 0 {
        if e & 1 == 1 { result *= factor }
        factor *= factor
        e >>= 1
    }
    return result
}
