/// How the coordinator paces a run.
public struct CoordinatorSettings: Sendable {
    /// Shards queued or in flight across all runs, at most. Bounds Redis memory for a
    /// run of any size; set it to a few times the number of workers.
    public var highWaterMark: Int
    /// How often the coordinator looks at the queue.
    public var tick: Duration
    /// How long the coordinator lease lasts without renewal; a standby takes over after it.
    public var leaseTTL: Duration
    /// A shard idle this long in a worker's hands is considered abandoned (workers
    /// reclaim it; long shards renew their claim well before).
    public var shardLease: Duration
    /// After this many deliveries without acknowledgement a shard is dead-lettered.
    public var maxDeliveries: Int
    /// This coordinator's name in the lease (unique per process).
    public var name: String

    public init(
        highWaterMark: Int = 64, tick: Duration = .milliseconds(250), leaseTTL: Duration = .seconds(10),
        shardLease: Duration = .seconds(60), maxDeliveries: Int = 5, name: String
    ) {
        self.highWaterMark = highWaterMark
        self.tick = tick
        self.leaseTTL = leaseTTL
        self.shardLease = shardLease
        self.maxDeliveries = maxDeliveries
        self.name = name
    }
}
