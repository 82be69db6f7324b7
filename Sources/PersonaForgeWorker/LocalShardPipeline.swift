public import CoreMetrics
public import Logging
public import PersonaForgeCore
public import PersonaForgeLLM

/// A worker's per-shard path without the queue: the same ``PreparedRun``,
/// ``ShardProcessor``, ``LLMCaller`` and ``ConcurrencyGate`` that ``Worker`` builds
/// for each shard it takes, for `personaforge-bench` to measure what a worker spends
/// per record outside Redis. Package-visible only: it is not an API for users.
package struct LocalShardPipeline: Sendable {
    private let run: PreparedRun
    private let processor: ShardProcessor
    private let metrics: WorkerMetrics

    /// `loaded` must not need PostgreSQL axes. `metrics`: the factory the worker
    /// executable uses (Prometheus), so that the metrics' cost is measured too.
    package init(
        runID: String, loaded: LoadedRun, client: LLMClient, concurrency: Int, logger: Logger,
        metrics factory: any MetricsFactory = NOOPMetricsHandler.instance
    ) throws {
        run = try PreparedRun(id: runID, loaded: loaded)
        metrics = WorkerMetrics(factory: factory)
        let caller = LLMCaller(
            client: client, gate: ConcurrencyGate(maximum: concurrency, minimum: 1), backoff: BackoffPolicy(),
            logger: logger, metrics: metrics)
        processor = ShardProcessor(caller: caller, logger: logger)
    }

    package var space: ConditionSpace { run.space }
    package var plan: SamplingPlan { run.plan }
    package var hasher: MinHasher? { run.hasher }
    package func curator(step: String) -> OutputCurator? { run.curators[step] }

    /// One shard's records, as a worker makes them before it pushes the batch, and the
    /// per-record metrics a worker records after the push.
    package func process(_ shard: ShardDescriptor) async throws -> [GeneratedRecord] {
        let records = try await processor.process(shard, run: run)
        metrics.recordsProduced(records)
        return records
    }
}
