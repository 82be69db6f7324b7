public import PersonaForgeCore

/// How a worker takes shards and calls the LLM.
public struct WorkerSettings: Sendable {
    /// This worker's consumer name (unique per process).
    public var name: String
    /// Most LLM requests in flight at once; AIMD lowers it on 429/503 and grows it back.
    public var maxConcurrency: Int
    public var minConcurrency: Int
    /// How long one shard read blocks.
    public var block: Duration
    /// A shard another worker has held this long without renewing is taken over.
    /// Must match the coordinator's `shardLease`.
    public var shardLease: Duration
    /// On SIGTERM, how long the current shard may take to finish before it is released.
    public var gracePeriod: Duration
    public var backoff: BackoffPolicy
    /// Limit for one LLM request; nil: each run's `model.timeout_seconds`.
    public var requestTimeout: Duration?
    /// No new shard is taken while the results stream holds this many batches or
    /// more (reducers are behind); nil: no limit. Use the coordinator's value.
    public var resultsHighWaterMark: Int?

    public init(
        name: String, maxConcurrency: Int = 8, minConcurrency: Int = 1, block: Duration = .seconds(1),
        shardLease: Duration = .seconds(60), gracePeriod: Duration = .seconds(20), backoff: BackoffPolicy = BackoffPolicy(),
        requestTimeout: Duration? = nil, resultsHighWaterMark: Int? = 256
    ) {
        self.name = name
        self.maxConcurrency = maxConcurrency
        self.minConcurrency = minConcurrency
        self.block = block
        self.shardLease = shardLease
        self.gracePeriod = gracePeriod
        self.backoff = backoff
        self.requestTimeout = requestTimeout
        self.resultsHighWaterMark = resultsHighWaterMark
    }
}
