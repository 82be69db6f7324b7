/// Limits and seeds of a `DiversityAccumulator`. Every limit bounds memory;
/// below it the corresponding metric is exact.
public struct DiversityConfiguration: Sendable, Hashable, Codable {
    /// distinct-n and entropy are reported for n = 1...maxOrder (default 4).
    public var maxOrder = 4
    /// Distinct n-grams per order counted exactly before sampling starts
    /// (default 2^20; about 32 MiB per order at the limit).
    public var exactNGramLimit = 1 << 20
    /// log2 of the HyperLogLog register count (default 16: 0.41 % standard error, 64 KiB per order).
    public var sketchPrecision = 16
    /// The n-gram length of the self-repetition score (the reference's default, 4).
    public var selfRepetitionOrder = 4
    /// Records whose n-gram sets are kept for the self-repetition score (default 10,000).
    public var selfRepetitionRecordLimit = 10_000
    /// Distinct self-repetition n-grams whose document frequency is kept exactly (default 2^20).
    public var selfRepetitionNGramLimit = 1 << 20
    /// Records sampled for the ROUGE-L homogenization score (default 200; O(K²) pairs per snapshot).
    public var homogenizationSampleSize = 200
    /// Lengths kept for exact percentiles (default 100,000).
    public var exactLengthLimit = 100_000
    /// Seed of every sample (same seed, same records ⇒ same metrics).
    public var seed: UInt64 = 0

    /// The defaults above.
    public init() {}
}
