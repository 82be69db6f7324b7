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
    /// After this many deliveries without acknowledgement a shard is dead-lettered,
    /// once it has also sat idle for ``shardLease`` (no worker is on it). Shards that
    /// workers put back at shutdown start over as new entries and count no delivery.
    public var maxDeliveries: Int
    /// No shard is fed while the results stream holds this many batches or more
    /// (reducers are behind); workers use the same bound before taking a shard.
    public var resultsHighWaterMark: Int
    /// This coordinator's name in the lease (unique per process).
    public var name: String

    public init(
        highWaterMark: Int = 64, tick: Duration = .milliseconds(250), leaseTTL: Duration = .seconds(10),
        shardLease: Duration = .seconds(60), maxDeliveries: Int = 5, resultsHighWaterMark: Int = 256, name: String
    ) {
        self.highWaterMark = highWaterMark
        self.tick = tick
        self.leaseTTL = leaseTTL
        self.shardLease = shardLease
        self.maxDeliveries = maxDeliveries
        self.resultsHighWaterMark = resultsHighWaterMark
        self.name = name
    }
}
