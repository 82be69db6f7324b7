/// How a run walks its condition space: permutation, budget and shards.
///
/// The sampled unit is the *condition*: a seeded ``FeistelPermutation`` orders
/// the conditions, and each condition contributes `samplesPerCondition`
/// consecutive *sample positions* (sample indices `0..<samplesPerCondition`).
/// Sample position `s` is condition slot `s / k`, sample index `s % k`, and the
/// condition is `permutation(s / k)`. `limit` counts **samples** (records, i.e.
/// LLM generations), so it is the budget. Shards are contiguous ranges of sample
/// positions `[n · shardSize, min((n + 1) · shardSize, sampleCount))`.
public struct SamplingPlan: Sendable, Hashable {
    /// Number of conditions (product of the axis sizes).
    public let conditionCount: Int
    /// Samples generated per condition (`k`).
    public let samplesPerCondition: Int
    /// `conditionCount × samplesPerCondition`: the largest possible run.
    public let sampleSpaceSize: Int
    /// Samples this run generates: `limit`, or the whole sample space.
    public let sampleCount: Int
    /// Sample positions per shard.
    public let shardSize: Int
    /// The permutation seed.
    public let seed: UInt64

    private let permutation: FeistelPermutation

    /// Creates a plan; throws if a size is not positive, the sample space
    /// overflows, or `limit` exceeds the sample space.
    public init(
        conditionCount: Int,
        samplesPerCondition: Int = 1,
        limit: Int? = nil,
        shardSize: Int,
        seed: UInt64
    ) throws(ConditionSpaceError) {
        guard conditionCount > 0 else {
            throw ConditionSpaceError(.emptyAxis, "the condition space is empty; every axis needs at least one value")
        }
        guard samplesPerCondition > 0 else {
            throw ConditionSpaceError(.invalidSize, "samples_per_condition must be at least 1, got \(samplesPerCondition)")
        }
        guard shardSize > 0 else {
            throw ConditionSpaceError(.invalidSize, "shard_size must be at least 1, got \(shardSize)")
        }
        let (total, overflow) = conditionCount.multipliedReportingOverflow(by: samplesPerCondition)
        guard !overflow else {
            throw ConditionSpaceError(
                .overflow,
                "\(conditionCount) conditions × \(samplesPerCondition) samples per condition exceeds 2^63 − 1; lower samples_per_condition or shrink an axis"
            )
        }
        if let limit {
            guard limit >= 1, limit <= total else {
                throw ConditionSpaceError(
                    .invalidLimit,
                    "limit \(limit) must be between 1 and the sample space size \(total) (\(conditionCount) conditions × \(samplesPerCondition)); lower it or omit limit to take the whole space"
                )
            }
        }
        self.conditionCount = conditionCount
        self.samplesPerCondition = samplesPerCondition
        self.sampleSpaceSize = total
        self.sampleCount = limit ?? total
        self.shardSize = shardSize
        self.seed = seed
        self.permutation = FeistelPermutation(count: UInt64(conditionCount), seed: seed)
    }

    /// Number of shards: `ceil(sampleCount / shardSize)`.
    public var shardCount: Int {
        sampleCount / shardSize + (sampleCount % shardSize == 0 ? 0 : 1)
    }

    /// Number of distinct conditions the run touches.
    public var sampledConditionCount: Int {
        sampleCount / samplesPerCondition + (sampleCount % samplesPerCondition == 0 ? 0 : 1)
    }

    /// The condition and sample index at sample position `position` (in `[0, sampleSpaceSize)`).
    public func address(ofSample position: Int) -> SampleAddress {
        precondition(position >= 0 && position < sampleSpaceSize, "sample position \(position) out of range")
        let (slot, index) = position.quotientAndRemainder(dividingBy: samplesPerCondition)
        return SampleAddress(conditionPosition: Int(permutation(UInt64(slot))), sampleIndex: index)
    }

    /// The sample position of `address`; the inverse of ``address(ofSample:)``.
    public func samplePosition(of address: SampleAddress) -> Int {
        Int(permutation.inverse(UInt64(address.conditionPosition))) * samplesPerCondition + address.sampleIndex
    }

    /// Shard number `number` (in `[0, shardCount)`) of run `runID`.
    public func shard(_ number: Int, runID: String) -> ShardDescriptor {
        precondition(number >= 0 && number < shardCount, "shard \(number) out of range [0, \(shardCount))")
        let start = number * shardSize
        return ShardDescriptor(runID: runID, shard: number, start: start, count: min(shardSize, sampleCount - start))
    }
}
