import Foundation
public import CoreMetrics
public import Logging
import PersonaForgeCore
public import PersonaForgeHTTP
import PersonaForgeLLM
public import PersonaForgeQueue
public import PersonaForgeRedis
public import PersonaForgeStore
public import PersonaForgeSupport

/// A stateless worker: takes one shard at a time from the shard stream, produces its
/// result batch, pushes it, then acknowledges the shard.
///
/// Safe to kill at any moment: an unacknowledged shard is taken over by another worker
/// once it has been idle for the shard lease (long shards renew their claim). On
/// shutdown it stops taking shards and finishes the current one within the grace
/// period, or releases it for immediate takeover.
public struct Worker: Sendable {
    /// The HTTP client settings a worker's LLM calls use: a response body larger than
    /// 16 MiB (far beyond any completion of a sane `max_tokens`) fails the attempt as a
    /// transport error instead of being buffered and parsed.
    public static let httpConfiguration = HTTPClient.Configuration(maximumBodySize: 16 << 20)

    public let redis: RedisConnection
    public let runs: RunRepository
    public let layout: QueueLayout
    public let settings: WorkerSettings
    public let http: HTTPClient
    /// Where to send requests, where it differs from the run config.
    public let endpointOverride: LLMEndpointOverride
    public let logger: Logger
    public let metrics: WorkerMetrics
    /// Beaten on every loop turn and while a shard is worked on (liveness).
    public let heartbeat: Heartbeat
    private let gate: ConcurrencyGate
    private let cache = LockedBox<[String: PreparedRun]>([:])
    /// Run id → its endpoint pool, kept across shards so ejections and latencies last.
    private let pools = LockedBox<[String: EndpointPool]>([:])
    /// The fleet rate limiters' own connection, so their round trips never queue
    /// behind a blocking read (connects on first use).
    private let limiterRedis: RedisConnection
    /// Whether the last look found the results stream full (to log changes once).
    private let waitingForReducers = LockedBox(false)

    public init(
        redis: RedisConnection, runs: RunRepository, layout: QueueLayout, settings: WorkerSettings, http: HTTPClient,
        endpointOverride: LLMEndpointOverride, logger: Logger,
        metrics: WorkerMetrics = WorkerMetrics(factory: NOOPMetricsHandler.instance), heartbeat: Heartbeat = Heartbeat(name: "worker")
    ) {
        self.redis = redis
        self.runs = runs
        self.layout = layout
        self.settings = settings
        self.http = http
        self.endpointOverride = endpointOverride
        self.logger = logger
        self.metrics = metrics
        self.heartbeat = heartbeat
        metrics.concurrencyLimit.record(settings.maxConcurrency)
        metrics.shardsInFlight.record(0)
        metrics.waitingForReducers.record(0)
        gate = ConcurrencyGate(maximum: settings.maxConcurrency, minimum: settings.minConcurrency)
        limiterRedis = RedisConnection(configuration: redis.configuration, logger: logger)
    }

    struct GraceExpired: Error {}

    /// Between tries of a result batch Redis refused: 0.5, 1, 2, 4, 5, 5 ... s.
    static let refusedPushBackoff = BackoffPolicy(baseDelay: .milliseconds(500), maxDelay: .seconds(5))

    /// Takes shards until `shutdown` is requested; `.graceExpired` when the shard it
    /// held had to be released unfinished.
    @discardableResult
    public func run(until shutdown: ShutdownSignal) async throws -> ShutdownOutcome {
        try await redis.createGroup(layout.shards, group: layout.workersGroup)
        logger.info("worker started", metadata: ["name": "\(settings.name)", "concurrency": "\(settings.maxConcurrency)"])
        var outcome = ShutdownOutcome.drained
        while !shutdown.isRequested {
            do {
                heartbeat.beat()
                // Take no new shard while reducers are behind: its batch would have nowhere to go.
                guard try await waitForRoomInResults(shutdown: shutdown) else { continue }
                guard let entry = try await nextShard() else { continue }
                try await handle(entry, shutdown: shutdown)
            } catch is GraceExpired {
                outcome = .graceExpired
                break
            } catch {
                logger.error("worker loop error; continuing", metadata: ["error": "\(error)"])
                await shutdown.sleep(for: .seconds(1))
            }
        }
        logger.info("worker stopped", metadata: ["name": "\(settings.name)", "outcome": "\(outcome)"])
        return outcome
    }

    /// A shard abandoned by a dead worker, else a new one (after blocking a while).
    func nextShard() async throws -> RedisStreamEntry? {
        let claimed = try await redis.autoClaim(layout.shards, group: layout.workersGroup, consumer: settings.name, minIdle: settings.shardLease, count: 1)
        if let entry = claimed.entries.first { return entry }
        return try await redis.readGroup(layout.shards, group: layout.workersGroup, consumer: settings.name, count: 1, block: settings.block).first
    }

    func handle(_ entry: RedisStreamEntry, shutdown: ShutdownSignal) async throws {
        let shard: ShardDescriptor
        do {
            shard = try QueueCodec.decode(ShardDescriptor.self, from: entry[QueueCodec.field])
        } catch {
            try await finish(entry, deadLetterReason: "undecodable shard descriptor: \(error)")
            metrics.shardFinished("dead_lettered")
            return
        }
        let control = RunControl(redis: redis, layout: layout)
        if try await control.state(of: shard.runID) == RunState.cancelled.rawValue {
            try await runs.recordShardOutcome(runID: shard.runID, shard: shard.shard, status: "cancelled", reason: "run cancelled", attempt: nil)
            try await finish(entry, deadLetterReason: nil)
            metrics.shardFinished("cancelled")
            return
        }
        let attempt = Int(try await redis.pendingEntries(layout.shards, group: layout.workersGroup, start: entry.id, end: entry.id, count: 1).first?.deliveries ?? 1)
        let run: PreparedRun
        do {
            run = try await prepared(shard.runID)
        } catch {
            try await recordError(entry, "\(error)")
            try await release(entry)
            throw error
        }
        let processor = ShardProcessor(
            caller: LLMCaller(pool: pool(for: run), gate: gate, backoff: settings.backoff, logger: logger, metrics: metrics), logger: logger
        )
        metrics.shardsInFlight.record(1)
        defer { metrics.shardsInFlight.record(0) }

        let clock = ContinuousClock()
        let started = clock.now
        let records: [GeneratedRecord]
        do {
            records = try await withThrowingTaskGroup(of: [GeneratedRecord]?.self) { group in
                group.addTask { try await processor.process(shard, run: run) }
                group.addTask {
                    // Renew the claim so a long shard is not taken over while it is worked on.
                    while true {
                        try await Task.sleep(for: min(settings.shardLease / 3, .seconds(10)))
                        heartbeat.beat()
                        metrics.concurrencyLimit.record(await gate.limit)
                        try await redis.send("XCLAIM", layout.shards, layout.workersGroup, settings.name, 0, entry.id, "JUSTID")
                        await publishEndpointHealth(runID: shard.runID)
                    }
                }
                group.addTask {
                    await shutdown.wait()
                    try Task.checkCancellation()
                    try await Task.sleep(for: settings.gracePeriod)
                    throw GraceExpired()
                }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let records = result { return records }
                }
                return []
            }
        } catch is GraceExpired {
            logger.warning("grace period over: putting the unfinished shard back", metadata: ["run": "\(shard.runID)", "shard": "\(shard.shard)"])
            await requeue(entry)
            metrics.shardFinished("released")
            throw GraceExpired()
        } catch {
            try? await recordError(entry, "\(error)")
            try? await release(entry)
            metrics.shardFinished("released")
            throw error
        }
        let batch = ResultBatch(shard: shard, worker: settings.name, attempt: attempt, records: records)
        try await push(batch, of: entry, shutdown: shutdown)
        await publishEndpointHealth(runID: shard.runID)
        let kept = records.count { $0.status == .kept }
        let limit = await gate.limit
        metrics.shardFinished("done")
        metrics.concurrencyLimit.record(limit)
        metrics.recordsProduced(records)
        logger.info("shard done", metadata: [
            "run": "\(shard.runID)", "shard": "\(shard.shard)", "records": "\(records.count)", "kept": "\(kept)",
            "seconds": "\((clock.now - started).components.seconds)", "concurrency": "\(limit)",
        ])
    }

    /// The run's endpoints (after this worker's override), each with its fleet rate limiter.
    private func pool(for run: PreparedRun) -> EndpointPool {
        if let cached = pools.withLock({ $0[run.id] }) { return cached }
        let model = run.loaded.config.model
        // The worker's --request-timeout, when given, else the run's model.timeout_seconds.
        let timeout = settings.requestTimeout ?? .milliseconds(Int64(model.timeoutSeconds * 1000))
        let members = endpointOverride.pool(for: model).map { endpoint, member in
            let limited = member.requestsPerMinute != nil || member.tokensPerMinute != nil
            let limiter = limited ? FleetRateLimiter(
                redis: limiterRedis,
                key: layout.rateLimit(endpoint: String(XXHash64.hash(endpoint.baseURL + "\u{1F}" + endpoint.model), radix: 16)),
                requestsPerMinute: member.requestsPerMinute, tokensPerMinute: member.tokensPerMinute, logger: logger
            ) : nil
            return EndpointPool.Member(
                client: LLMClient(endpoint: endpoint, http: http, timeout: timeout), name: member.name, weight: member.weight, limiter: limiter,
                pricing: member
            )
        }
        let pool = EndpointPool(members: members, metrics: metrics)
        return pools.withLock { pools in
            if let raced = pools[run.id] { return raced }
            pools[run.id] = pool
            return pool
        }
    }

    /// Adds what this worker saw of the run's endpoints since its last report to Redis
    /// (``EndpointHealth``, for `status`). Best effort: a failure is logged and the
    /// counts of that report are lost, never the shard.
    func publishEndpointHealth(runID: String) async {
        guard let pool = pools.withLock({ $0[runID] }) else { return }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let commands = EndpointHealth.commands(
            await pool.drainHealth(wallClockMilliseconds: now), run: runID, worker: settings.name, layout: layout, nowMilliseconds: now
        )
        do {
            let replies = try await limiterRedis.pipeline(commands)
            if let failure = replies.first(where: { if case .error = $0 { true } else { false } }) {
                logger.debug("endpoint health not recorded", metadata: ["error": "\(failure)"])
            }
        } catch {
            logger.debug("endpoint health not recorded", metadata: ["error": "\(error)"])
        }
    }

    private func prepared(_ runID: String) async throws -> PreparedRun {
        if let cached = cache.withLock({ $0[runID] }) { return cached }
        guard let stored = try await runs.stored(id: runID) else {
            throw PreparedRunError(message: "run \(runID) is not in the database")
        }
        let run = try await PreparedRun(stored: stored, runs: runs)
        cache.withLock { $0[runID] = run }
        return run
    }

    /// Pushes a shard's result batch, then acknowledges the shard: the `XADD` goes
    /// alone and first, so a batch Redis refuses (OOM at `maxmemory`, a read-only
    /// replica) never lets its shard be acknowledged. A refused push is retried,
    /// holding the shard (its claim renewed) and sleeping between tries; on shutdown
    /// the shard is put back instead. A crash after the `XADD` and before the `XACK`
    /// only makes the shard run again, and the reducer stores its batch once.
    private func push(_ batch: ResultBatch, of entry: RedisStreamEntry, shutdown: ShutdownSignal) async throws {
        let add = RedisStreamCommands.xadd(layout.results, fields: [(QueueCodec.field, QueueCodec.encodeBatch(batch))])
        var refusals = 0
        while true {
            let refusal: RedisError
            do {
                _ = try await redis.send(add)
                break
            } catch {
                // An error reply: Redis is up but will not take the batch now. I/O errors end the shard's turn.
                guard error.code == .server else { throw error }
                refusal = error
            }
            refusals += 1
            metrics.resultPushesRefused.increment()
            if shutdown.isRequested {
                logger.warning("Redis refused the result batch during shutdown: putting the shard back", metadata: [
                    "run": "\(batch.shard.runID)", "shard": "\(batch.shard.shard)", "error": "\(refusal.message)",
                ])
                await requeue(entry)
                metrics.shardFinished("released")
                throw GraceExpired()
            }
            if refusals == 1 || refusals % 30 == 0 {
                logger.warning("Redis refused the result batch; holding the shard and retrying", metadata: [
                    "run": "\(batch.shard.runID)", "shard": "\(batch.shard.shard)", "error": "\(refusal.message)", "refusals": "\(refusals)",
                ])
            }
            heartbeat.beat()
            _ = try? await redis.send("XCLAIM", layout.shards, layout.workersGroup, settings.name, 0, entry.id, "JUSTID")
            await shutdown.sleep(for: Self.refusedPushBackoff.exponentialWindow(attempt: refusals))
        }
        if refusals > 0 { logger.info("result batch pushed after Redis refused it", metadata: ["refusals": "\(refusals)"]) }
        let replies = try await redis.pipeline([
            RedisCommand("XACK", layout.shards, layout.workersGroup, entry.id),
            RedisCommand("XDEL", layout.shards, entry.id),
            RedisCommand("HDEL", "\(layout.deadLetters):errors", entry.id),
        ])
        if let failure = replies.first(where: { if case .error = $0 { true } else { false } }) {
            // The batch is in the results stream; the unacknowledged shard runs again
            // after its lease and the reducer stores its records once.
            throw RedisError(.server, "acknowledging shard entry \(entry.id) failed after its batch was pushed: \(failure)")
        }
    }

    /// False while the results stream holds ``WorkerSettings/resultsHighWaterMark``
    /// batches or more (reducers are behind): then it sleeps a second first, so a
    /// waiting worker costs one `XLEN` a second and no CPU.
    private func waitForRoomInResults(shutdown: ShutdownSignal) async throws -> Bool {
        guard let limit = settings.resultsHighWaterMark else { return true }
        let length = Int(try await redis.send("XLEN", layout.results).integer ?? 0)
        let full = length >= limit
        if full != waitingForReducers.withLock({ $0 }) {
            waitingForReducers.withLock { $0 = full }
            metrics.waitingForReducers.record(full ? 1 : 0)
            if full {
                logger.warning("results stream is full: waiting for reducers before taking a shard", metadata: [
                    "results": "\(length)", "high_water_mark": "\(limit)",
                ])
            } else {
                logger.info("results stream has room again: taking shards", metadata: ["results": "\(length)"])
            }
        }
        if full { await shutdown.sleep(for: .seconds(1)) }
        return !full
    }

    /// Puts a shard given up at shutdown back as a new entry of the shard stream (one
    /// `MULTI`/`EXEC`: `XADD` of the same descriptor, `XACK` and `XDEL` of the old
    /// entry), so a preempted shard starts again with no delivery counted against it:
    /// only failures move a shard toward the dead-letter stream. If Redis refuses the
    /// transaction, the shard is released in place instead (immediately claimable).
    private func requeue(_ entry: RedisStreamEntry) async {
        let replies = try? await redis.pipeline([
            RedisCommand("MULTI"),
            RedisStreamCommands.xadd(layout.shards, fields: [(QueueCodec.field, entry[QueueCodec.field] ?? [])]),
            RedisCommand("XACK", layout.shards, layout.workersGroup, entry.id),
            RedisCommand("XDEL", layout.shards, entry.id),
            RedisCommand("HDEL", "\(layout.deadLetters):errors", entry.id),
            RedisCommand("EXEC"),
        ])
        if let exec = replies?.last, exec.array?.count == 4 { return }
        logger.warning("could not put the shard back as a new entry; releasing it in place", metadata: [
            "entry": "\(entry.id)", "reply": "\(String(describing: replies?.last))",
        ])
        try? await release(entry)
    }

    /// Acknowledges and deletes a shard entry, dead-lettering it first when a reason is given.
    private func finish(_ entry: RedisStreamEntry, deadLetterReason: String?) async throws {
        var commands: [RedisCommand] = []
        if let deadLetterReason {
            commands.append(layout.deadLetter(payload: entry[QueueCodec.field], reason: deadLetterReason, entry: entry.id))
        }
        commands.append(RedisCommand("XACK", layout.shards, layout.workersGroup, entry.id))
        commands.append(RedisCommand("XDEL", layout.shards, entry.id))
        _ = try await redis.pipeline(commands)
    }

    /// Makes the shard immediately claimable by any worker (idle time set past the lease).
    private func release(_ entry: RedisStreamEntry) async throws {
        let idle = settings.shardLease.wholeMilliseconds * 2
        try await redis.send("XCLAIM", layout.shards, layout.workersGroup, settings.name, 0, entry.id, "IDLE", idle, "JUSTID")
    }

    /// Remembers why a shard failed, for the dead-letter reason.
    private func recordError(_ entry: RedisStreamEntry, _ message: String) async throws {
        try await redis.send("HSET", "\(layout.deadLetters):errors", entry.id, String(message.prefix(500)))
    }
}
