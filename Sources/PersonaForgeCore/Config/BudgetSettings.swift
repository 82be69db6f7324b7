/// When a run stops before its space or `limit` is used up (`budget:` in the config).
///
/// The coordinator compares the run's live totals in PostgreSQL with these on every
/// pass; once one is reached it queues no more shards, and the run completes (not
/// fails) when the shards already queued are stored. So a run overshoots by at most
/// the shards that were queued or in flight at that moment (the coordinator's high
/// water mark), never by more.
public struct BudgetSettings: Sendable, Hashable {
    /// Stop once this many records are kept (after filters and dedup).
    public var targetKept: Int?
    /// Stop once prompt + completion tokens reach this.
    public var maxTokens: Int?
    /// Stop once the cost (from the endpoints' prices) reaches this.
    public var maxCost: Double?

    public init(targetKept: Int? = nil, maxTokens: Int? = nil, maxCost: Double? = nil) {
        self.targetKept = targetKept
        self.maxTokens = maxTokens
        self.maxCost = maxCost
    }

    public var isEmpty: Bool { targetKept == nil && maxTokens == nil && maxCost == nil }
}
