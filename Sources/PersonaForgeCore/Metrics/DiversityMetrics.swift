/// A snapshot of diversity metrics: metric name → value, encoded as one flat
/// JSON object (`{"distinct_1": 0.41, ...}`). See docs/metrics.md for every
/// definition.
public struct DiversityMetrics: Sendable, Hashable, Codable {
    /// The metric values by name.
    public var values: [String: Double]

    /// A snapshot with these values.
    public init(values: [String: Double] = [:]) {
        self.values = values
    }

    /// The value of one metric, if present.
    public subscript(name: String) -> Double? {
        get { values[name] }
        set { values[name] = newValue }
    }

    /// The metric names in a stable, readable order (the order of `add` in
    /// `DiversityAccumulator.snapshot()`, unknown names last, alphabetically).
    public var orderedNames: [String] {
        values.keys.sorted { lhs, rhs in
            let (left, right) = (Self.rank(lhs), Self.rank(rhs))
            return left != right ? left < right : lhs < rhs
        }
    }

    public init(from decoder: any Decoder) throws {
        values = try decoder.singleValueContainer().decode([String: Double].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }

    private static let displayOrder: [String] = {
        let lengths = ["mean", "stddev", "min", "max", "p50", "p90", "p99"]
        return ["records", "tokens", "distinct_", "ngram_diversity", "entropy_",
                "compression_ratio", "compression_ratio_single", "compression_original", "compression_compressed",
                "self_repetition", "homogenization_rougel", "homogenization_sample"]
            + lengths.map { "words_\($0)" } + lengths.map { "chars_\($0)" } + ["exact_"]
    }()

    /// The position of the longest known prefix of `name`.
    private static func rank(_ name: String) -> Int {
        var best = (length: 0, index: displayOrder.count)
        for (index, prefix) in displayOrder.enumerated() where name.hasPrefix(prefix) && prefix.count > best.length {
            best = (prefix.count, index)
        }
        return best.index
    }
}
