/// A fixed-bucket histogram of non-negative integers with bounded relative
/// error (the HdrHistogram layout): values below 128 have their own bucket;
/// above, every power-of-two range is split into 64 equal buckets, so a
/// bucket spans at most 1/64 of its lower bound and its midpoint is within
/// 1/128 (0.8 %) of every value in it. At most 3,776 buckets cover all of
/// `0..<2^63`; only non-empty ones are stored. Merging adds counts and is exact.
public struct LogBucketHistogram: Sendable, Hashable, Codable {
    private var counts: [Int: Int] = [:]
    /// Values recorded.
    public private(set) var count = 0

    /// An empty histogram.
    public init() {}

    /// Records one value (negative values count as 0).
    public mutating func add(_ value: Int) {
        counts[Self.bucket(of: max(0, value)), default: 0] += 1
        count += 1
    }

    /// The value at quantile `q` (0...1): the midpoint of the bucket holding
    /// the `ceil(q · count)`-th smallest value (nearest rank), exact below 128.
    public func quantile(_ q: Double) -> Double {
        guard count > 0 else { return 0 }
        let rank = max(1, Int((q * Double(count)).rounded(.up)))
        var seen = 0
        for bucket in counts.keys.sorted() {
            seen += counts[bucket]!
            if seen >= rank {
                let range = Self.range(of: bucket)
                return Double(range.lowerBound + range.upperBound - 1) / 2
            }
        }
        let last = Self.range(of: counts.keys.max()!)
        return Double(last.lowerBound + last.upperBound - 1) / 2
    }

    /// Adds every value `other` recorded.
    public mutating func merge(_ other: LogBucketHistogram) {
        counts.merge(other.counts, uniquingKeysWith: +)
        count += other.count
    }

    static func bucket(of value: Int) -> Int {
        if value < 128 { return value }
        let exponent = Int.bitWidth - 1 - value.leadingZeroBitCount // ≥ 7
        let sub = (value >> (exponent - 6)) & 63
        return 128 + (exponent - 7) * 64 + sub
    }

    static func range(of bucket: Int) -> Range<Int> {
        if bucket < 128 { return bucket..<(bucket + 1) }
        let exponent = (bucket - 128) / 64 + 7
        let sub = (bucket - 128) % 64
        let width = 1 << (exponent - 6)
        let lower = (1 << exponent) + sub * width
        return lower..<(lower + width)
    }
}
