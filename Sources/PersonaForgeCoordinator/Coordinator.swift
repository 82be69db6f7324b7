public import CoreMetrics
public import Logging
import PersonaForgeCore
public import PersonaForgeQueue
public import PersonaForgeRedis
public import PersonaForgeStore
public import PersonaForgeSupport

/// Feeds shard descriptors of active runs into the shard stream, at most
/// ``CoordinatorSettings/highWaterMark`` queued or in flight; dead-letters shards that
/// keep failing; mirrors run states to Redis; marks runs complete.
///
/// Only the holder of the Redis lease acts; another coordinator waits and takes over
/// when the lease expires. The cursor (`runs.next_shard`) is persisted after each
/// feed, so a restarted coordinator continues where it stopped (a shard queued just
/// before a crash may be queued twice; records are idempotent, so that is harmless).
public struct Coordinator: Sendable {
    public let redis: RedisConnection
    public let runs: RunRepository
    public let layout: QueueLayout
    public let settings: CoordinatorSettings
    public let logger: Logger
    public let metrics: CoordinatorMetrics
    /// Beaten after every tick (liveness).
    public let heartbeat: Heartbeat
    /// The Redis incarnation token this coordinator last checked against PostgreSQL.
    private let confirmedIncarnation = LockedBox<String?>(nil)

    public init(
        redis: RedisConnection, runs: RunRepository, layout: QueueLayout, settings: CoordinatorSettings, logger: Logger,
        metrics: CoordinatorMetrics = CoordinatorMetrics(factory: NOOPMetricsHandler.instance), heartbeat: Heartbeat = Heartbeat(name: "coordinator")
    ) {
        self.redis = redis
        self.runs = runs
        self.layout = layout
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
        self.heartbeat = heartbeat
    }

    /// What one tick did, for logs and tests.
    public struct TickReport: Sendable, Equatable {
        public var isLeader = false
        public var queued = 0
        public var deadLettered = 0
        /// Shards queued again because Redis lost its data (``checkRedisIncarnation()``).
        public var requeued = 0
        public var completed: [String] = []
        /// Runs that reached a budget rule in this pass.
        public var stopped: [String] = []
        public var depth = 0
        /// Result batches waiting for reducers, and whether that is at the high-water mark.
        public var results = 0
        public var resultsFull = false
    }

    /// Runs ticks until `shutdown` is requested; releases the lease on the way out.
    /// A coordinator holds no work, so it always ends `.drained`.
    @discardableResult
    public func run(until shutdown: ShutdownSignal) async throws -> ShutdownOutcome {
        try await redis.createGroup(layout.shards, group: layout.workersGroup)
        try await redis.createGroup(layout.results, group: layout.reducersGroup)
        var wasLeader = false
        var resultsWereFull = false
        // Consecutive failed ticks (PostgreSQL or Redis away): retried ever more slowly,
        // up to 5 s apart, instead of every tick.
        var failures = 0
        let backoff = BackoffPolicy(baseDelay: settings.tick, maxDelay: .seconds(5))
        while !shutdown.isRequested {
            var pause = settings.tick
            do {
                let report = try await tick()
                if report.isLeader != wasLeader {
                    logger.info(report.isLeader ? "coordinator lease acquired" : "waiting for the coordinator lease", metadata: ["name": "\(settings.name)"])
                    wasLeader = report.isLeader
                }
                if report.queued > 0 || report.deadLettered > 0 || !report.completed.isEmpty {
                    logger.debug("coordinator tick", metadata: [
                        "queued": "\(report.queued)", "dead_lettered": "\(report.deadLettered)", "depth": "\(report.depth)",
                    ])
                }
                if report.resultsFull != resultsWereFull {
                    if report.resultsFull {
                        logger.warning("results stream is full: feeding no shards until reducers catch up", metadata: [
                            "results": "\(report.results)", "high_water_mark": "\(settings.resultsHighWaterMark)",
                        ])
                    } else if report.isLeader {
                        logger.info("results stream has room again: feeding shards", metadata: ["results": "\(report.results)"])
                    }
                    resultsWereFull = report.resultsFull
                }
                for run in report.completed {
                    logger.info("run completed", metadata: ["run": "\(run)"])
                }
                metrics.isLeader.record(report.isLeader ? 1 : 0)
                metrics.shardsQueued.increment(by: report.queued)
                metrics.shardsRequeued.increment(by: report.requeued)
                metrics.shardsDeadLettered.increment(by: report.deadLettered)
                metrics.runsCompleted.increment(by: report.completed.count)
                try await sampleQueue()
                heartbeat.beat()
                if failures > 0 { logger.info("coordinator tick succeeded again", metadata: ["failed_ticks": "\(failures)"]) }
                failures = 0
            } catch {
                failures += 1
                pause = backoff.exponentialWindow(attempt: failures)
                logger.error("coordinator tick failed; retrying", metadata: [
                    "error": "\(error)", "failed_ticks": "\(failures)", "retry_in_ms": "\(pause.wholeMilliseconds)",
                ])
            }
            await shutdown.sleep(for: pause)
        }
        try? await releaseLease()
        metrics.isLeader.record(0)
        return .drained
    }

    /// Samples stream lengths and consumer-group pending/lag into the queue gauges
    /// (one pipelined round trip).
    func sampleQueue() async throws {
        let replies = try await redis.pipeline([
            RedisCommand("XLEN", layout.shards), RedisCommand("XLEN", layout.results), RedisCommand("XLEN", layout.deadLetters),
            RedisCommand("XINFO", "GROUPS", layout.shards), RedisCommand("XINFO", "GROUPS", layout.results),
        ])
        var depths: [String: Int] = [:]
        for (stream, reply) in zip(["shards", "results", "dead"], replies) {
            let depth = Int(reply.integer ?? 0)
            depths[stream] = depth
            metrics.depth(of: stream, depth)
        }
        for (stream, reply) in zip(["shards", "results"], replies.dropFirst(3)) {
            for group in reply.array ?? [] {
                // XINFO GROUPS answers a flat [key, value, ...] list per group.
                guard let info = group.fieldMap, let name = info["name"]?.string else { continue }
                let pending = Int(info["pending"]?.integer ?? 0)
                // Redis reports `lag` as nil once entries inside the group's range were
                // deleted, and workers and reducers XDEL every entry they acknowledge.
                // Then every entry still in the stream is either pending or not yet
                // delivered, so the lag is the length minus the pending count.
                let lag = info["lag"]?.integer.map(Int.init) ?? max(0, (depths[stream] ?? 0) - pending)
                metrics.group(name, of: stream, pending: pending, lag: lag)
                if stream == "shards" && name == layout.workersGroup { metrics.shardsInFlight.record(pending) }
            }
        }
    }

    /// One pass: lease, states, dead letters, feeding, completion.
    public func tick() async throws -> TickReport {
        var report = TickReport()
        guard try await holdLease() else { return report }
        report.isLeader = true
        report.requeued = try await checkRedisIncarnation()

        let active = try await runs.activeRuns(namespace: layout.namespace)
        for run in active where run.state == .pending {
            try await runs.transition(run.id, to: .running, from: [.pending])
        }
        let control = RunControl(redis: redis, layout: layout)
        for run in active {
            try await control.setState(run.state == .pending ? RunState.running.rawValue : run.state.rawValue, of: run.id)
        }

        report.deadLettered = try await deadLetterExhaustedShards()

        // Runs that reached a budget rule queue nothing more; they complete below once
        // what they queued is stored.
        var stopped = Set(active.filter { $0.stopReason != nil }.map(\.id))
        for run in active where run.stopReason == nil && (run.state == .running || run.state == .paused) {
            guard let rule = run.budgetRuleReached(), try await runs.markStopped(run.id, reason: rule) else { continue }
            logger.info("run reached its budget; queueing no more shards", metadata: ["run": "\(run.id)", "rule": "\(rule)"])
            stopped.insert(run.id)
            report.stopped.append(run.id)
        }

        // Workers delete a shard entry once it is acknowledged, so the stream length is
        // exactly what is queued or in flight; reducers likewise for result batches.
        let lengths = try await redis.pipeline([RedisCommand("XLEN", layout.shards), RedisCommand("XLEN", layout.results)])
        var depth = Int(lengths[0].integer ?? 0)
        report.results = Int(lengths[1].integer ?? 0)
        var feedable = active.filter {
            ($0.state == .running || $0.state == .pending) && $0.nextShard < $0.shardCount && !stopped.contains($0.id) && !Self.budgetCovered($0)
        }
        report.resultsFull = report.results >= settings.resultsHighWaterMark
        if report.resultsFull { feedable = [] }  // reducers are behind: their backlog must not grow
        while depth < settings.highWaterMark && !feedable.isEmpty {
            // Round robin, one small batch per run per turn, so concurrent runs share workers.
            var next: [RunSummary] = []
            for var run in feedable {
                let room = settings.highWaterMark - depth
                if room <= 0 { break }
                // A run with a budget gets one shard per turn, so that its projection is checked before each.
                let batch = run.budget.isEmpty
                    ? min(room, Int(run.shardCount - run.nextShard), max(1, settings.highWaterMark / max(1, feedable.count))) : 1
                var commands: [RedisCommand] = []
                for shard in Int(run.nextShard)..<(Int(run.nextShard) + batch) {
                    commands.append(try enqueue(shard, of: run))
                }
                try await addToShardStream(commands)
                run.nextShard += Int64(batch)
                try await runs.advanceCursor(run.id, to: Int(run.nextShard))
                depth += batch
                report.queued += batch
                if run.nextShard < run.shardCount && !Self.budgetCovered(run) { next.append(run) }
            }
            feedable = next
        }
        report.depth = depth

        for run in active where run.state != .pending && (run.nextShard >= run.shardCount || stopped.contains(run.id)) {
            if try await runs.completeIfFinished(run.id) {
                try await control.setState(RunState.completed.rawValue, of: run.id)
                report.completed.append(run.id)
            }
        }
        return report
    }

    /// Whether the shards a run with a budget has queued but not stored are expected to
    /// reach it, so that queueing more would only overshoot: the totals so far plus
    /// the samples still on their way at the rates seen so far (kept per sample,
    /// tokens and cost per sample). Until its first shard is stored a run with a
    /// budget has one shard on its way at a time. Runs without a budget: never.
    static func budgetCovered(_ run: RunSummary) -> Bool {
        guard !run.budget.isEmpty else { return false }
        // Shards queued and not yet stored (done or dead-lettered), at most a shard's samples each.
        let pendingShards = max(0, run.nextShard - run.shardsDone - run.shardsDead)
        guard run.accounted > 0 else { return pendingShards > 0 }
        return run.budgetRuleReached(projecting: Double(pendingShards * run.shardSize)) != nil
    }

    /// `XADD` of shard `shard` of `run` to the shard stream.
    private func enqueue(_ shard: Int, of run: RunSummary) throws -> RedisCommand {
        let start = shard * Int(run.shardSize)
        let descriptor = ShardDescriptor(runID: run.id, shard: shard, start: start, count: min(Int(run.shardSize), Int(run.sampleCount) - start))
        return RedisStreamCommands.xadd(layout.shards, fields: [(QueueCodec.field, try QueueCodec.encode(descriptor))])
    }

    /// Sends `XADD`s in one pipeline; an error reply fails the whole call.
    private func addToShardStream(_ commands: [RedisCommand]) async throws {
        let replies = try await redis.pipeline(commands)
        if let failure = replies.first(where: { if case .error = $0 { true } else { false } }) {
            throw RedisError(.server, "XADD to \(layout.shards) failed: \(failure)")
        }
    }

    /// Detects a Redis that lost its data and puts back what went with it.
    ///
    /// Redis keeps a random token (``QueueLayout/incarnation``, set once with `SET
    /// NX`) and PostgreSQL the last token a coordinator saw. A token missing from Redis
    /// is set anew, so a Redis that came back empty (no AOF, a lost volume, a
    /// FLUSHALL) shows as a token that differs from PostgreSQL's. Then every shard of
    /// an active run that was queued (below its cursor) but has no outcome in
    /// `run_shards` is queued again: those that were waiting, in flight or not yet
    /// reduced when the data went. A shard that was in
    /// fact still on its way is then done twice, which the idempotent write makes
    /// harmless. The re-queue happens before PostgreSQL learns the new token, so a
    /// coordinator dying in between only makes the next one re-queue again. Returns
    /// how many shards were queued again.
    func checkRedisIncarnation() async throws -> Int {
        let candidate = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let replies = try await redis.pipeline([
            RedisCommand("SET", layout.incarnation, candidate, "NX"), RedisCommand("GET", layout.incarnation),
        ])
        guard let current = replies.last?.string else {
            throw RedisError(.protocolError, "GET \(layout.incarnation) answered \(String(describing: replies.last))")
        }
        if confirmedIncarnation.withLock({ $0 }) == current { return 0 }
        let known = try await runs.redisIncarnation(namespace: layout.namespace)
        var requeued = 0
        if let known, known != current {
            // The consumer groups went too; the first command that needs one recreates it.
            logger.warning("Redis lost its data (the queue's incarnation token is new): re-queueing unfinished shards", metadata: [
                "namespace": "\(layout.namespace)",
            ])
            for run in try await runs.activeRuns(namespace: layout.namespace) where run.nextShard > 0 {
                let missing = try await runs.unaccountedShards(run.id, below: Int(run.nextShard))
                for chunk in stride(from: 0, to: missing.count, by: 500) {
                    try await addToShardStream(try missing[chunk..<min(chunk + 500, missing.count)].map { try enqueue($0, of: run) })
                }
                if !missing.isEmpty {
                    logger.warning("re-queued shards lost with Redis", metadata: ["run": "\(run.id)", "shards": "\(missing.count)"])
                }
                requeued += missing.count
            }
        }
        if known != current { try await runs.setRedisIncarnation(current, namespace: layout.namespace) }
        confirmedIncarnation.withLock { $0 = current }
        return requeued
    }

    /// Moves shards delivered ``CoordinatorSettings/maxDeliveries`` times without an
    /// acknowledgement, and idle for the shard lease (abandoned, not being worked on),
    /// to the dead-letter stream, with the reason.
    func deadLetterExhaustedShards() async throws -> Int {
        let pending = try await redis.pendingEntries(layout.shards, group: layout.workersGroup, start: "-", end: "+", count: 1000)
        var moved = 0
        // Idle too: a shard a worker is on right now renews its claim, so however often it
        // was taken over (preemption, scale-down), it is not failing while it is worked on.
        for entry in pending where entry.deliveries >= Int64(settings.maxDeliveries) && entry.idle >= settings.shardLease {
            let found = try await redis.send("XRANGE", layout.shards, entry.id, entry.id)
            let payload = try RedisStreamCommands.entries(ofRangeReply: found).first?[QueueCodec.field]
            let lastError = try await redis.send("HGET", "\(layout.deadLetters):errors", entry.id).string
            let reason = "delivered \(entry.deliveries) times without being acknowledged (last worker \(entry.consumer))"
                + (lastError.map { "; last error: \($0)" } ?? "")
            _ = try await redis.pipeline([
                layout.deadLetter(payload: payload, reason: reason, entry: entry.id),
                RedisCommand("XACK", layout.shards, layout.workersGroup, entry.id),
                RedisCommand("XDEL", layout.shards, entry.id),
                RedisCommand("HDEL", "\(layout.deadLetters):errors", entry.id),
            ])
            if let payload, let descriptor = try? QueueCodec.decode(ShardDescriptor.self, from: payload) {
                try await runs.recordShardOutcome(runID: descriptor.runID, shard: descriptor.shard, status: "dead", reason: reason, attempt: Int(entry.deliveries))
            }
            logger.warning("shard dead-lettered", metadata: ["entry": "\(entry.id)", "reason": "\(reason)"])
            moved += 1
        }
        return moved
    }

    // MARK: Lease

    private static let renewScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end
        """
    private static let releaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end
        """

    /// Takes or renews the lease; true while this coordinator holds it.
    func holdLease() async throws -> Bool {
        let ttl = settings.leaseTTL.wholeMilliseconds
        let taken = try await redis.send("SET", layout.coordinatorLease, settings.name, "NX", "PX", ttl)
        if taken == .status("OK") { return true }
        let renewed = try await redis.send("EVAL", Self.renewScript, 1, layout.coordinatorLease, settings.name, ttl)
        return renewed.integer == 1
    }

    func releaseLease() async throws {
        try await redis.send("EVAL", Self.releaseScript, 1, layout.coordinatorLease, settings.name)
    }
}
