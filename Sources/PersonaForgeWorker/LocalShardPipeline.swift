import CoreMetrics
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

    /// `loaded` must not need PostgreSQL axes.
    package init(runID: String, loaded: LoadedRun, client: LLMClient, concurrency: Int, logger: Logger) throws {
        run = try PreparedRun(id: runID, loaded: loaded)
        let caller = LLMCaller(
            client: client, gate: ConcurrencyGate(maximum: concurrency, minimum: 1), backoff: BackoffPolicy(),
            logger: logger, metrics: WorkerMetrics(factory: NOOPMetricsHandler.instance))
        processor = ShardProcessor(caller: caller, model: client.endpoint.model, logger: logger)
    }

    package var space: ConditionSpace { run.space }
    package var plan: SamplingPlan { run.plan }
    package var hasher: MinHasher? { run.hasher }
    package func curator(step: String) -> OutputCurator? { run.curators[step] }

    /// One shard's records, as a worker makes them before it pushes the batch.
    package func process(_ shard: ShardDescriptor) async throws -> [GeneratedRecord] {
        try await processor.process(shard, run: run)
    }
}
