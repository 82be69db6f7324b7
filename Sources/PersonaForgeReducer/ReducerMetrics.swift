public import CoreMetrics

/// The reducer's metrics, created from an injected factory. Record counts are the rows
/// newly stored in PostgreSQL (redelivered batches add nothing), so they agree with
/// the database.
public struct ReducerMetrics: Sendable {
    let factory: any MetricsFactory
    /// One observation per committed write transaction (COPY, dedup, insert, counters).
    let commitDuration: Timer
    let batchesCommitted: Counter
    let undecodableBatches: Counter

    public init(factory: any MetricsFactory) {
        self.factory = factory
        commitDuration = Timer(label: "personaforge_reducer_commit_duration_seconds", factory: factory)
        batchesCommitted = Counter(label: "personaforge_reducer_batches_committed_total", factory: factory)
        undecodableBatches = Counter(label: "personaforge_reducer_undecodable_batches_total", factory: factory)
    }

    /// Newly stored records by final status: kept, filtered, failed, duplicate.
    /// Records stored as kept by an earlier commit and found to be near duplicates of
    /// an earlier record (in sample order) by a later one: `personaforge_records_total`
    /// counted them as kept; kept now = kept − this.
    func markedDuplicateLater(_ count: Int) {
        Counter(label: "personaforge_records_marked_duplicate_later_total", factory: factory).increment(by: count)
    }

    func stored(_ byStatus: [String: Int]) {
        for (status, count) in byStatus {
            // Incremented by 0 too, so every outcome's series exists from the first commit.
            Counter(label: "personaforge_records_total", dimensions: [("outcome", status)], factory: factory).increment(by: count)
        }
    }
}
