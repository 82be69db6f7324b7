public import CoreMetrics

/// The coordinator's metrics, created from an injected factory. The queue gauges are
/// sampled from Redis on every tick (XLEN, XINFO GROUPS), so any coordinator — the
/// leader or a standby — reports the fleet's queue depth, lag and pending counts.
public struct CoordinatorMetrics: Sendable {
    let factory: any MetricsFactory
    /// 1 while this coordinator holds the lease.
    let isLeader: Gauge
    /// Shards delivered to a worker and not yet acknowledged (fleet-wide).
    let shardsInFlight: Gauge
    let shardsQueued: Counter
    /// Shards queued again because Redis lost its data.
    let shardsRequeued: Counter
    let shardsDeadLettered: Counter
    let runsCompleted: Counter

    public init(factory: any MetricsFactory) {
        self.factory = factory
        isLeader = Gauge(label: "personaforge_coordinator_leader", factory: factory)
        shardsInFlight = Gauge(label: "personaforge_shards_in_flight", factory: factory)
        shardsQueued = Counter(label: "personaforge_coordinator_shards_queued_total", factory: factory)
        shardsRequeued = Counter(label: "personaforge_coordinator_shards_requeued_total", factory: factory)
        shardsDeadLettered = Counter(label: "personaforge_coordinator_shards_dead_lettered_total", factory: factory)
        runsCompleted = Counter(label: "personaforge_coordinator_runs_completed_total", factory: factory)
    }

    /// Entries in a stream: `shards` (queued + in flight), `results` (not yet reduced), `dead`.
    func depth(of stream: String, _ value: Int) {
        Gauge(label: "personaforge_queue_depth", dimensions: [("stream", stream)], factory: factory).record(value)
    }

    /// A consumer group's pending (delivered, unacknowledged) entries and lag (entries not yet delivered).
    func group(_ group: String, of stream: String, pending: Int, lag: Int) {
        let dimensions = [("stream", stream), ("group", group)]
        Gauge(label: "personaforge_queue_pending", dimensions: dimensions, factory: factory).record(pending)
        Gauge(label: "personaforge_queue_lag", dimensions: dimensions, factory: factory).record(lag)
    }
}
