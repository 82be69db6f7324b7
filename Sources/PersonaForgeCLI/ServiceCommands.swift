import ArgumentParser
import Foundation
import Logging
import PersonaForgeCoordinator
import PersonaForgeCore
import PersonaForgeHTTP
import PersonaForgeObservability
import PersonaForgeQueue
import PersonaForgeReducer
import PersonaForgeStore
import PersonaForgeWorker

/// Queue options shared by coordinator and worker (they must agree on both).
struct LeaseOptions: ParsableArguments {
    @Option(help: "Seconds a shard may sit idle in a worker's hands before another worker takes it over.")
    var shardLease: Double = 60

    @Option(help: """
        Most result batches waiting for reducers: at this many the coordinator stops feeding \
        shards and workers take none (bounds Redis memory when reducers lag).
        """)
    var resultsHighWaterMark: Int = 256

    func validate() throws {
        guard shardLease > 0 else { throw ValidationError("--shard-lease must be more than 0 seconds") }
        guard resultsHighWaterMark > 0 else { throw ValidationError("--results-high-water-mark must be at least 1") }
    }
}

/// `personaforge coordinator`
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Feed shards of active runs into Redis, bounded by a high-water mark (one active at a time).",
        discussion: """
            Runs until SIGTERM/SIGINT, then releases its lease and exits 0 (3 if a tick \
            did not finish within the grace period). A second coordinator waits and takes \
            over if this one dies. Serves /metrics (queue depth, lag, pending), /health \
            and /ready on --metrics-port.
            """
    )

    @OptionGroup var connections: ConnectionOptions
    @OptionGroup var service: ServiceOptions
    @OptionGroup var lease: LeaseOptions

    @Option(help: "Most shards queued or in flight at once (bounds Redis memory).")
    var highWaterMark: Int = 64

    @Option(help: "Deliveries after which a shard is dead-lettered.")
    var maxDeliveries: Int = 5

    @Option(help: "Seconds the coordinator lease lasts without renewal.")
    var leaseTTL: Double = 10

    func run() async throws {
        try await service.runService("coordinator", connections: connections) { started in
            let coordinator = Coordinator(
                redis: started.redis, runs: RunRepository(connection: started.database), layout: service.layout,
                settings: CoordinatorSettings(
                    highWaterMark: highWaterMark, leaseTTL: .milliseconds(Int64(leaseTTL * 1000)),
                    shardLease: .milliseconds(Int64(lease.shardLease * 1000)), maxDeliveries: maxDeliveries,
                    resultsHighWaterMark: lease.resultsHighWaterMark,
                    name: ServiceOptions.processName("coordinator")
                ),
                logger: started.logger, metrics: CoordinatorMetrics(factory: started.metrics), heartbeat: started.health.register("coordinator")
            )
            return try await coordinator.run(until: started.shutdown)
        }
    }
}

/// `personaforge worker`
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Take shards, call the LLM, filter, and push result batches (stateless; run any number).",
        discussion: """
            On SIGTERM/SIGINT it stops taking shards and finishes the current one within the \
            grace period (exit 0), or releases it to other workers (exit 3). Killed outright, \
            it loses nothing: its shard is taken over after the shard lease.
            The LLM endpoint comes from each run's config; --llm-base-url / \
            PERSONAFORGE_LLM_BASE_URL (and model, key) override it.
            """
    )

    @OptionGroup var connections: ConnectionOptions
    @OptionGroup var service: ServiceOptions
    @OptionGroup var lease: LeaseOptions

    @Option(help: "Most LLM requests in flight (lowered automatically on 429/503).")
    var concurrency: Int = 8

    @Option(help: "Seconds before one LLM request times out (default: each run's model.timeout_seconds).")
    var requestTimeout: Double?

    func run() async throws {
        try await service.runService("worker", connections: connections) { started in
            let http = HTTPClient(configuration: Worker.httpConfiguration, logger: started.logger)
            defer { http.shutdown() }
            let worker = Worker(
                redis: started.redis, runs: RunRepository(connection: started.database), layout: service.layout,
                settings: WorkerSettings(
                    name: ServiceOptions.processName("worker"), maxConcurrency: concurrency,
                    shardLease: .milliseconds(Int64(lease.shardLease * 1000)), gracePeriod: started.gracePeriod,
                    requestTimeout: requestTimeout.map { .milliseconds(Int64($0 * 1000)) },
                    resultsHighWaterMark: lease.resultsHighWaterMark
                ),
                http: http, endpointOverride: try connections.endpointOverride(), logger: started.logger,
                metrics: WorkerMetrics(factory: started.metrics), heartbeat: started.health.register("worker")
            )
            return try await worker.run(until: started.shutdown)
        }
    }
}

/// `personaforge reducer`
struct ReducerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reducer",
        abstract: "Store result batches in PostgreSQL (COPY, idempotent), then acknowledge them.",
        discussion: """
            Runs until SIGTERM/SIGINT: the write in progress commits, then it exits 0 (3 if \
            that took longer than the grace period; uncommitted batches are redelivered).
            """
    )

    @OptionGroup var connections: ConnectionOptions
    @OptionGroup var service: ServiceOptions

    @Option(help: "Result batches written per transaction.")
    var batchCount: Int = 32

    @Option(help: "Seconds a result batch may sit unacknowledged with a reducer before another reducer takes it over.")
    var claimIdle: Double = 60

    @Flag(inversion: .prefixedNo, help: "Keep diversity metrics of kept records live (docs/metrics.md, \"Live diversity\").")
    var liveDiversity = true

    @Option(help: "Seconds between stores of this reducer's live diversity state (records in between are listed as pending).")
    var diversityPersistSeconds: Double = 5

    @Option(help: "Seconds between live diversity snapshots of a run in metric_snapshots.")
    var diversitySnapshotSeconds: Double = 10

    @Option(help: ArgumentHelp(
        "Keep the LSH band index in this Redis or Redis Cluster (any node's URL) instead of PostgreSQL.",
        discussion: "Env: PERSONAFORGE_BAND_INDEX_URL. Every reducer of a namespace must use the same; a scope's store is fixed when it is created (docs/dedup.md)."
    ))
    var bandIndexURL: String?

    func validate() throws {
        guard diversityPersistSeconds >= 0 else { throw ValidationError("--diversity-persist-seconds must be 0 or more") }
        guard diversitySnapshotSeconds >= 0 else { throw ValidationError("--diversity-snapshot-seconds must be 0 or more") }
    }

    func run() async throws {
        let live = liveDiversity ? LiveDiversitySettings(
            persistInterval: .milliseconds(Int64(diversityPersistSeconds * 1000)),
            snapshotInterval: .milliseconds(Int64(diversitySnapshotSeconds * 1000))
        ) : nil
        let bandIndex = try BandIndexOption.index(bandIndexURL, namespace: service.layout.namespace)
        try await service.runService("reducer", connections: connections) { started in
            let reducer = Reducer(
                redis: started.redis, writer: RecordWriter(connection: started.database, bandIndex: bandIndex), layout: service.layout,
                settings: ReducerSettings(batchCount: batchCount, claimIdle: .milliseconds(Int64(claimIdle * 1000)), name: ServiceOptions.processName("reducer")),
                liveDiversity: live, logger: started.logger,
                metrics: ReducerMetrics(factory: started.metrics), heartbeat: started.health.register("reducer")
            )
            return try await reducer.run(until: started.shutdown)
        }
    }
}
