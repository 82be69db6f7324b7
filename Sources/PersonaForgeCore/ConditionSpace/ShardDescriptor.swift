/// One unit of work: a contiguous range of *sample positions* of a run.
///
/// A few dozen bytes when encoded; the coordinator puts these on the shard
/// stream and a worker decodes every position in the range itself.
public struct ShardDescriptor: Sendable, Hashable, Codable {
    /// The run this shard belongs to.
    public var runID: String
    /// The shard number `k`, from 0.
    public var shard: Int
    /// The first sample position, `k · shard_size`.
    public var start: Int
    /// How many sample positions follow `start` (the last shard may be short).
    public var count: Int

    /// Creates a descriptor.
    public init(runID: String, shard: Int, start: Int, count: Int) {
        self.runID = runID
        self.shard = shard
        self.start = start
        self.count = count
    }

    /// The sample positions of this shard.
    public var samplePositions: Range<Int> { start..<(start + count) }

    private enum CodingKeys: String, CodingKey {
        case runID = "run"
        case shard
        case start
        case count
    }
}
