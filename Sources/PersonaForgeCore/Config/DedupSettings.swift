/// Global near-duplicate removal (`dedup:`): MinHash over word n-grams with
/// LSH banding. Parsed and validated here; applied by workers and the reducer.
public struct DedupSettings: Sendable, Hashable {
    /// Whether dedup runs (default true).
    public var enabled: Bool
    /// Estimated Jaccard similarity at or above which a record is a duplicate (default 0.8).
    public var threshold: Double
    /// Word n-gram size of shingles (default 5).
    public var ngram: Int
    /// MinHash permutations (default 128).
    public var permutations: Int
    /// MinHash seed (default: the run seed).
    public var seed: UInt64?
    /// Which step's output is compared (default: the last step).
    public var step: String?
    /// Which earlier records count: this run's only, or every run's with the same
    /// MinHash parameters (dedup a new run against everything generated before).
    public var scope: Scope = .run

    /// The dedup scope.
    public enum Scope: String, Sendable, Hashable, CaseIterable {
        case run
        case global
    }

    /// The MinHash seed in effect: the configured one, else the run seed for `run`
    /// scope and a fixed 1 for `global` scope (signatures must be comparable across runs).
    public func effectiveSeed(runSeed: UInt64) -> UInt64 {
        seed ?? (scope == .global ? 1 : runSeed)
    }

    /// Creates settings with the documented defaults.
    public init(enabled: Bool = true, threshold: Double = 0.8, ngram: Int = 5, permutations: Int = 128, seed: UInt64? = nil, step: String? = nil) {
        self.enabled = enabled
        self.threshold = threshold
        self.ngram = ngram
        self.permutations = permutations
        self.seed = seed
        self.step = step
    }
}
