public import CoreMetrics
public import Logging
import PersonaForgeCore
public import PersonaForgeSupport
public import PersonaForgeQueue
public import PersonaForgeRedis
public import PersonaForgeStore

/// How the reducer consumes result batches.
public struct ReducerSettings: Sendable {
    /// Batches read (and written in one transaction) at a time.
    public var batchCount: Int
    /// How long one read blocks waiting for batches.
    public var block: Duration
    /// A batch a reducer took but did not acknowledge for this long is taken over.
    public var claimIdle: Duration
    /// This reducer's consumer name (unique per process).
    public var name: String

    public init(batchCount: Int = 32, block: Duration = .seconds(1), claimIdle: Duration = .seconds(60), name: String) {
        self.batchCount = batchCount
        self.block = block
        self.claimIdle = claimIdle
        self.name = name
    }
}

/// Consumes result batches and stores them: decode, reduce (dedup seam), write in one
/// transaction, and only then acknowledge and delete the stream entries. A crash at
/// any point redelivers the batches, and the idempotent write stores nothing twice.
public struct Reducer: Sendable {
    public let redis: RedisConnection
    public let writer: RecordWriter
    public let layout: QueueLayout
    public let settings: ReducerSettings
    public let logger: Logger
    /// Live diversity of the kept records this reducer inserts (nil: off).
    public let liveDiversity: LiveDiversityTracker?
    public let metrics: ReducerMetrics
    /// Beaten after every step (liveness).
    public let heartbeat: Heartbeat
    private let plans = LockedBox<[String: DedupPlan?]>([:])
    /// Set when a step failed: the batches it read stay pending to this reducer, so
    /// the next steps take them back at once (XREADGROUP from 0) instead of waiting
    /// ``ReducerSettings/claimIdle`` for XAUTOCLAIM.
    private let retryOwnPending = LockedBox(false)

    public init(
        redis: RedisConnection, writer: RecordWriter, layout: QueueLayout, settings: ReducerSettings,
        liveDiversity: LiveDiversitySettings? = LiveDiversitySettings(), logger: Logger,
        metrics: ReducerMetrics = ReducerMetrics(factory: NOOPMetricsHandler.instance), heartbeat: Heartbeat = Heartbeat(name: "reducer")
    ) {
        self.redis = redis
        self.writer = writer
        self.layout = layout
        self.settings = settings
        self.logger = logger
        self.liveDiversity = liveDiversity.map { LiveDiversityTracker(reducer: settings.name, settings: $0, logger: logger) }
        self.metrics = metrics
        self.heartbeat = heartbeat
    }

    /// Steps until `shutdown` is requested. The step in progress finishes (its
    /// transaction commits or rolls back); the reducer holds nothing else, so it ends `.drained`.
    @discardableResult
    public func run(until shutdown: ShutdownSignal) async throws -> ShutdownOutcome {
        try await redis.createGroup(layout.results, group: layout.reducersGroup)
        // Consecutive failed steps (PostgreSQL or Redis away): 1, 2, 4, 5, 5 ... s apart.
        var failures = 0
        let backoff = BackoffPolicy(baseDelay: .seconds(1), maxDelay: .seconds(5))
        while !shutdown.isRequested {
            do {
                heartbeat.beat()
                _ = try await step()
                if failures > 0 { logger.info("reducer step succeeded again", metadata: ["failed_steps": "\(failures)"]) }
                failures = 0
            } catch {
                failures += 1
                retryOwnPending.withLock { $0 = true }
                let pause = backoff.exponentialWindow(attempt: failures)
                logger.error("reducer step failed; its batches stay pending and are retried", metadata: [
                    "error": "\(error)", "failed_steps": "\(failures)", "retry_in_ms": "\(pause.wholeMilliseconds)",
                ])
                await shutdown.sleep(for: pause)
            }
        }
        await liveDiversity?.flush(connection: writer.connection)
        return .drained
    }

    /// Reads, stores and acknowledges one group of batches; returns how many records were new.
    @discardableResult
    public func step() async throws -> Int {
        var entries = try await redis.autoClaim(
            layout.results, group: layout.reducersGroup, consumer: settings.name, minIdle: settings.claimIdle, count: settings.batchCount
        ).entries
        if entries.isEmpty, retryOwnPending.withLock({ $0 }) {
            entries = try await ownPendingBatches()
            if entries.isEmpty { retryOwnPending.withLock { $0 = false } }
        }
        if entries.isEmpty {
            entries = try await redis.readGroup(
                layout.results, group: layout.reducersGroup, consumer: settings.name, count: settings.batchCount, block: settings.block
            )
        }
        if entries.isEmpty {
            // Idle: bring the live diversity state and snapshots up to date.
            if let liveDiversity, liveDiversity.hasUnflushedWork { await liveDiversity.flush(connection: writer.connection) }
            return 0
        }
        var batches: [ResultBatch] = []
        var garbage: [RedisStreamEntry] = []
        for entry in entries {
            do {
                batches.append(try QueueCodec.decodeBatch(from: entry[QueueCodec.field]))
            } catch {
                garbage.append(entry)
                logger.error("undecodable result batch moved to the dead-letter stream", metadata: ["entry": "\(entry.id)", "error": "\(error)"])
            }
        }
        var dedup: [String: DedupPlan] = [:]
        for runID in Set(batches.map(\.shard.runID)) {
            if let plan = try await dedupPlan(for: runID) { dedup[runID] = plan }
        }
        let clock = ContinuousClock()
        let writeStarted = clock.now
        let outcome: RecordWriter.Outcome
        do {
            outcome = try await writer.write(batches, dedup: dedup, hook: liveDiversity?.transactionHook())
            liveDiversity?.committed()
        } catch {
            liveDiversity?.rolledBack()
            throw error
        }
        metrics.commitDuration.recordNanoseconds((clock.now - writeStarted).wholeNanoseconds)
        // Counted once committed (before the acknowledgement): a redelivery stores, and counts, nothing.
        metrics.stored(outcome.insertedByStatus)
        metrics.markedDuplicateLater(outcome.duplicatesMarkedLater)
        var commands: [RedisCommand] = []
        for entry in garbage {
            commands.append(layout.deadLetter(payload: entry[QueueCodec.field], reason: "undecodable result batch", entry: entry.id))
        }
        let ids = entries.map(\.id)
        commands.append(RedisCommand(["XACK", layout.results, layout.reducersGroup] + ids))
        commands.append(RedisCommand(["XDEL", layout.results] + ids))
        _ = try await redis.pipeline(commands)
        metrics.batchesCommitted.increment(by: batches.count)
        metrics.undecodableBatches.increment(by: garbage.count)
        await liveDiversity?.writeDueSnapshots(connection: writer.connection)
        logger.debug("stored result batches", metadata: ["batches": "\(batches.count)", "new_records": "\(outcome.inserted)"])
        return outcome.inserted
    }

    /// The batches delivered to this reducer and not acknowledged (after a failed step).
    /// An entry deleted meanwhile comes back without fields; it is acknowledged and skipped.
    private func ownPendingBatches() async throws -> [RedisStreamEntry] {
        while true {
            let own = try await redis.readGroup(
                layout.results, group: layout.reducersGroup, consumer: settings.name, count: settings.batchCount, startingAt: "0"
            )
            let live = own.filter { !$0.fields.isEmpty }
            let deleted = own.filter(\.fields.isEmpty).map(\.id)
            if !deleted.isEmpty { try await redis.ack(layout.results, group: layout.reducersGroup, ids: deleted) }
            if !live.isEmpty {
                logger.info("retrying result batches of a failed step", metadata: ["batches": "\(live.count)"])
            }
            if !live.isEmpty || own.isEmpty { return live }
        }
    }

    /// The run's dedup plan (nil when its config turns dedup off), loaded once per run.
    private func dedupPlan(for runID: String) async throws -> DedupPlan? {
        if let cached = plans.withLock({ $0[runID] }) { return cached }
        var plan: DedupPlan?
        if let stored = try await RunRepository(connection: writer.connection).stored(id: runID) {
            plan = try Self.dedupPlan(of: stored, runID: runID)
        }
        plans.withLock { $0[runID] = .some(plan) }
        return plan
    }

    /// The plan from a stored run's config, in a synchronous function: the loaded run
    /// (a large value) never lives in an async frame. Holding it across the `await`
    /// above crashed debug builds now and then (a bad pointer while copying the
    /// RunConfig, 1 run in 3 to 8 of `personaforge run`; not seen with this shape).
    static func dedupPlan(of stored: StoredRun, runID: String) throws -> DedupPlan? {
        let run = try stored.load()
        guard run.config.dedup.enabled else { return nil }
        return try DedupPlan(settings: run.config.dedup, runID: runID, runSeed: run.config.seed)
    }
}
