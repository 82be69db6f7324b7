/// The distribution of one length measure (words or characters per record).
///
/// Count, mean, standard deviation (population), minimum and maximum are
/// always exact. Percentiles are exact (numpy's default linear interpolation)
/// while at most `exactLimit` values have been seen — they are kept — and
/// afterwards come from a `LogBucketHistogram` (nearest rank, within 0.8 %
/// relative error). Merging is exact for the moments and the histogram; the
/// kept values are merged while their union fits `exactLimit`.
public struct LengthDistribution: Sendable, Hashable, Codable {
    /// The number of kept values up to which percentiles are exact.
    public let exactLimit: Int
    /// Exact count, mean, standard deviation, minimum and maximum.
    public private(set) var moments = RunningMoments()
    private var histogram = LogBucketHistogram()
    private var values: [Int] = []

    /// An empty distribution.
    public init(exactLimit: Int = 100_000) {
        self.exactLimit = exactLimit
    }

    /// Whether percentiles are exact.
    public var isExact: Bool { moments.count <= exactLimit }

    /// Records one length.
    public mutating func add(_ length: Int) {
        moments.add(Double(length))
        histogram.add(length)
        if moments.count <= exactLimit {
            values.append(length)
        } else if !values.isEmpty {
            values = []
        }
    }

    /// The `q`-quantile (0...1) of the lengths (0 when empty).
    public func percentile(_ q: Double) -> Double {
        guard isExact else { return histogram.quantile(q) }
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return Double(sorted[lower]) + (Double(sorted[upper]) - Double(sorted[lower])) * fraction
    }

    /// Adds every length `other` recorded.
    public mutating func merge(_ other: LengthDistribution) {
        moments.merge(other.moments)
        histogram.merge(other.histogram)
        values = moments.count <= exactLimit ? values + other.values : []
    }
}
