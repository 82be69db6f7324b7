/// One row of `runs`, without the config payloads.
public struct RunSummary: Sendable, Hashable {
    public var id: String
    public var name: String
    public var state: RunState
    public var configHash: String
    public var model: String?
    public var sampleCount: Int64
    public var shardSize: Int64
    public var shardCount: Int64
    public var nextShard: Int64
    public var shardsDone: Int64
    public var shardsDead: Int64
    public var generated: Int64
    public var kept: Int64
    public var filtered: Int64
    public var failed: Int64
    public var duplicate: Int64
    public var promptTokens: Int64
    public var completionTokens: Int64
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    /// Seconds since the run started (or until it finished), from the database clock.
    public var elapsedSeconds: Double?

    /// Records stored so far (each sample ends in exactly one status).
    public var accounted: Int64 { kept + filtered + failed + duplicate }
}
