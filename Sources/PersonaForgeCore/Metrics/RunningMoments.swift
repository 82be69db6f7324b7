/// Count, mean, variance, minimum and maximum of a stream of numbers in O(1)
/// memory (Welford's update; Chan et al.'s parallel formula for `merge`,
/// which is exact up to floating-point rounding).
public struct RunningMoments: Sendable, Hashable, Codable {
    /// Values seen.
    public private(set) var count = 0
    /// Their arithmetic mean (0 when empty).
    public private(set) var mean = 0.0
    private var squaredDeviations = 0.0
    /// The smallest value (0 when empty).
    public private(set) var minimum = 0.0
    /// The largest value (0 when empty).
    public private(set) var maximum = 0.0

    /// No values yet.
    public init() {}

    /// Adds one value.
    public mutating func add(_ value: Double) {
        count += 1
        let delta = value - mean
        mean += delta / Double(count)
        squaredDeviations += delta * (value - mean)
        minimum = count == 1 ? value : min(minimum, value)
        maximum = count == 1 ? value : max(maximum, value)
    }

    /// The population standard deviation (numpy's default `ddof = 0`).
    public var standardDeviation: Double {
        count == 0 ? 0 : (squaredDeviations / Double(count)).squareRoot()
    }

    /// Adds every value `other` has seen.
    public mutating func merge(_ other: RunningMoments) {
        guard other.count > 0 else { return }
        guard count > 0 else { self = other; return }
        let total = Double(count + other.count)
        let delta = other.mean - mean
        squaredDeviations += other.squaredDeviations + delta * delta * Double(count) * Double(other.count) / total
        mean += delta * Double(other.count) / total
        count += other.count
        minimum = min(minimum, other.minimum)
        maximum = max(maximum, other.maximum)
    }
}
