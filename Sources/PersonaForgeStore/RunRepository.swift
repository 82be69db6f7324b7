import Foundation
public import PersonaForgeCore
public import PersonaForgePostgres

/// Reads and writes runs, shards and records: every SQL statement of the pipeline
/// lives here, so the coordinator, workers and reducer only call Swift.
public struct RunRepository: Sendable {
    public let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    // MARK: Runs

    /// Parameters of a new run, as `submit` computed them.
    public struct NewRun: Sendable {
        public var id: String
        public var namespace: String
        public var name: String
        public var configJSON: String
        public var configHash: String
        public var configYAML: String
        public var configFile: String
        public var baseDirectory: String
        public var bundle: [String: String]
        public var seed: UInt64
        public var conditionCount: Int
        public var samplesPerCondition: Int
        public var sampleCount: Int
        public var shardSize: Int
        public var shardCount: Int
        public var model: String
        /// The config's `budget:` (stopping rules).
        public var budget: BudgetSettings = BudgetSettings()

        public init(
            id: String, namespace: String, name: String, configJSON: String, configHash: String, configYAML: String, configFile: String,
            baseDirectory: String, bundle: [String: String], seed: UInt64, conditionCount: Int, samplesPerCondition: Int,
            sampleCount: Int, shardSize: Int, shardCount: Int, model: String
        ) {
            self.id = id
            self.namespace = namespace
            self.name = name
            self.configJSON = configJSON
            self.configHash = configHash
            self.configYAML = configYAML
            self.configFile = configFile
            self.baseDirectory = baseDirectory
            self.bundle = bundle
            self.seed = seed
            self.conditionCount = conditionCount
            self.samplesPerCondition = samplesPerCondition
            self.sampleCount = sampleCount
            self.shardSize = shardSize
            self.shardCount = shardCount
            self.model = model
        }
    }

    /// Stores a new run. Its `created_at` (`clock_timestamp()`) is its place in the
    /// dedup order and is unique (migration 11): a submit that lands in the same
    /// microsecond as another is retried, with a later clock.
    public func insert(_ run: NewRun) async throws {
        var attempt = 0
        while true {
            do {
                return try await insertOnce(run)
            } catch let error as PostgresError where error.isUniqueViolation && error.constraintName == "runs_created_at_key" && attempt < 5 {
                attempt += 1
            }
        }
    }

    private func insertOnce(_ run: NewRun) async throws {
        let bundle = String(decoding: try JSONEncoder().encode(run.bundle), as: UTF8.self)
        try await connection.execute("""
            INSERT INTO runs (id, name, config, config_hash, config_yaml, config_file, base_directory, bundle, seed,
                              condition_count, samples_per_condition, target_count, shard_size, shard_count, model, namespace,
                              budget_kept, budget_tokens, budget_cost)
            VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
            """, [
                run.id, run.name, run.configJSON, run.configHash, run.configYAML, run.configFile, run.baseDirectory, bundle,
                String(Int64(bitPattern: run.seed)), String(run.conditionCount), String(run.samplesPerCondition),
                String(run.sampleCount), String(run.shardSize), String(run.shardCount), run.model, run.namespace,
                run.budget.targetKept.map { String($0) }, run.budget.maxTokens.map { String($0) }, run.budget.maxCost.map { String($0) },
            ])
    }

    private static let summaryColumns = """
        id::text AS id, name, state, config_hash, model, coalesce(target_count, 0) AS sample_count, shard_size, shard_count,
        next_shard, shards_done, shards_dead, records_generated, records_kept, records_filtered, records_failed,
        records_duplicate, prompt_tokens, completion_tokens, cost, budget_kept, budget_tokens, budget_cost, stop_reason,
        created_at::text AS created_at,
        started_at::text AS started_at, finished_at::text AS finished_at,
        extract(epoch FROM (coalesce(finished_at, now()) - started_at))::float8 AS elapsed
        """

    private static func summary(_ row: PostgresRow) -> RunSummary {
        RunSummary(
            id: row["id"].string ?? "", name: row["name"].string ?? "",
            state: RunState(rawValue: row["state"].string ?? "") ?? .failed,
            configHash: row["config_hash"].string ?? "", model: row["model"].string,
            sampleCount: row["sample_count"].int64 ?? 0, shardSize: row["shard_size"].int64 ?? 0,
            shardCount: row["shard_count"].int64 ?? 0, nextShard: row["next_shard"].int64 ?? 0,
            shardsDone: row["shards_done"].int64 ?? 0, shardsDead: row["shards_dead"].int64 ?? 0,
            generated: row["records_generated"].int64 ?? 0, kept: row["records_kept"].int64 ?? 0,
            filtered: row["records_filtered"].int64 ?? 0, failed: row["records_failed"].int64 ?? 0,
            duplicate: row["records_duplicate"].int64 ?? 0, promptTokens: row["prompt_tokens"].int64 ?? 0,
            completionTokens: row["completion_tokens"].int64 ?? 0, cost: row["cost"].double ?? 0,
            budget: BudgetSettings(targetKept: row["budget_kept"].int, maxTokens: row["budget_tokens"].int, maxCost: row["budget_cost"].double),
            stopReason: row["stop_reason"].string, createdAt: row["created_at"].string ?? "",
            startedAt: row["started_at"].string, finishedAt: row["finished_at"].string,
            elapsedSeconds: row["elapsed"].double
        )
    }

    /// Runs of this namespace with this config hash that are not cancelled or failed, newest first.
    public func liveRuns(withConfigHash hash: String, namespace: String) async throws -> [RunSummary] {
        try await connection.query(
            "SELECT \(Self.summaryColumns) FROM runs WHERE config_hash = $1 AND namespace = $2 AND state NOT IN ('cancelled', 'failed') ORDER BY created_at DESC",
            [hash, namespace]
        ).map(Self.summary)
    }

    /// The run with this id, or with this unique id prefix (at least 4 characters).
    public func summary(id: String) async throws -> RunSummary? {
        if id.count >= 36 {
            return try await connection.query("SELECT \(Self.summaryColumns) FROM runs WHERE id::text = $1", [id]).first.map(Self.summary)
        }
        guard id.count >= 4, id.allSatisfy({ $0.isHexDigit || $0 == "-" }) else { return nil }
        let rows = try await connection.query("SELECT \(Self.summaryColumns) FROM runs WHERE id::text LIKE $1 || '%' LIMIT 2", [id.lowercased()])
        return rows.count == 1 ? Self.summary(rows[0]) : nil
    }

    /// The most recent runs, newest first.
    public func list(limit: Int = 20) async throws -> [RunSummary] {
        try await connection.query("SELECT \(Self.summaryColumns) FROM runs ORDER BY created_at DESC LIMIT $1", [String(limit)]).map(Self.summary)
    }

    /// Runs of this namespace the coordinator must look after, oldest first.
    public func activeRuns(namespace: String) async throws -> [RunSummary] {
        try await connection.query(
            "SELECT \(Self.summaryColumns) FROM runs WHERE namespace = $1 AND state IN ('pending', 'running', 'paused') ORDER BY created_at",
            [namespace]
        ).map(Self.summary)
    }

    /// The config and file contents of a run, for workers.
    public func stored(id: String) async throws -> StoredRun? {
        guard let row = try await connection.query(
            "SELECT id::text AS id, state, config_yaml, config_file, base_directory, bundle::text AS bundle FROM runs WHERE id::text = $1", [id]
        ).first else { return nil }
        let bundle = try JSONDecoder().decode([String: String].self, from: Data((row["bundle"].string ?? "{}").utf8))
        return StoredRun(
            id: row["id"].string ?? id, state: RunState(rawValue: row["state"].string ?? "") ?? .failed,
            configYAML: row["config_yaml"].string ?? "", configFile: row["config_file"].string ?? "",
            baseDirectory: row["base_directory"].string ?? "", bundle: bundle
        )
    }

    /// Moves a run to `state` if it is in one of `from`; returns whether it moved.
    @discardableResult
    public func transition(_ id: String, to state: RunState, from: [RunState]) async throws -> Bool {
        let allowed = "{" + from.map(\.rawValue).joined(separator: ",") + "}"
        let extra: String
        switch state {
        case .running: extra = ", started_at = coalesce(started_at, now())"
        case .completed, .cancelled, .failed: extra = ", finished_at = coalesce(finished_at, now())"
        default: extra = ""
        }
        return try await connection.execute(
            "UPDATE runs SET state = $2, updated_at = now()\(extra) WHERE id::text = $1 AND state = ANY($3::text[])",
            [id, state.rawValue, allowed]
        ) == 1
    }

    /// Records that shards up to (not including) `nextShard` have been queued.
    public func advanceCursor(_ id: String, to nextShard: Int) async throws {
        try await connection.execute(
            "UPDATE runs SET next_shard = greatest(next_shard, $2), updated_at = now() WHERE id::text = $1",
            [id, String(nextShard)]
        )
    }

    /// Records a shard that ended without a result batch (dead-lettered or skipped
    /// because its run was cancelled). Idempotent.
    public func recordShardOutcome(runID: String, shard: Int, status: String, reason: String?, attempt: Int?) async throws {
        let counter = status == "dead" ? "shards_dead" : "shards_done"
        try await connection.execute("""
            WITH inserted AS (
                INSERT INTO run_shards (run_id, shard, status, reason, attempt)
                VALUES ($1::uuid, $2, $3, $4, $5)
                ON CONFLICT DO NOTHING RETURNING run_id
            )
            UPDATE runs SET \(counter) = \(counter) + 1, updated_at = now() FROM inserted WHERE runs.id = inserted.run_id
            """, [runID, String(shard), status, reason, attempt.map(String.init)])
    }

    /// Marks the run completed when every shard has been queued and has an outcome.
    @discardableResult
    public func completeIfFinished(_ id: String) async throws -> Bool {
        // A run stopped at its budget is finished once every shard it queued is stored.
        try await connection.execute("""
            UPDATE runs SET state = 'completed', finished_at = now(), updated_at = now()
            WHERE id::text = $1 AND state IN ('running', 'paused')
              AND (next_shard >= shard_count OR stop_reason IS NOT NULL)
              AND (SELECT count(*) FROM run_shards WHERE run_id = runs.id) >= least(next_shard, shard_count)
            """, [id]) == 1
    }

    /// Records that a running run reached its `budget:` rule `reason`
    /// (``RunSummary/budgetRuleReached(projecting:)``); false if it was marked before or is not running.
    public func markStopped(_ id: String, reason: String) async throws -> Bool {
        try await connection.execute("""
            UPDATE runs SET stop_reason = $2, updated_at = now()
            WHERE id::text = $1 AND state IN ('running', 'paused') AND stop_reason IS NULL
            """, [id, reason]) == 1
    }

    /// Calls `body` with a run's records in (position, sample) order, a page at a time,
    /// so memory stays constant whatever the run size.
    /// - Parameters:
    ///   - status: only records with this status (`kept`, ...), or all when nil.
    ///   - columns: the select list; `position` and `sample` are added for paging.
    public func forEachPage(
        of runID: String, status: String?, columns: String, pageSize: Int = 1000,
        _ body: ([PostgresRow]) throws -> Void
    ) async throws {
        try await forEachPage(of: runID, statuses: status.map { [$0] } ?? Self.recordStatuses, columns: columns, pageSize: pageSize, body)
    }

    /// Shards below `nextShard` (so queued at some point) that have no outcome in
    /// `run_shards`, in order: those still queued, in flight or not yet reduced, or
    /// lost with Redis. One ordered scan of the run's `run_shards` primary key,
    /// returning its gaps; `limit` bounds the answer.
    public func unaccountedShards(_ id: String, below nextShard: Int, limit: Int = 100_000) async throws -> [Int] {
        let rows = try await connection.query("""
            WITH finished AS (
                SELECT shard, lead(shard) OVER (ORDER BY shard) AS following
                FROM run_shards WHERE run_id::text = $1 AND shard < $2
            )
            SELECT 0::bigint AS first, coalesce((SELECT min(shard) FROM finished), $2) - 1 AS last
            UNION ALL
            SELECT shard + 1, coalesce(following, $2) - 1 FROM finished
            ORDER BY first
            """, [id, String(nextShard)])
        var shards: [Int] = []
        for row in rows {
            guard let first = row["first"].int, let last = row["last"].int, last >= first else { continue }
            for shard in first...last {
                if shards.count >= limit { return shards }
                shards.append(shard)
            }
        }
        return shards
    }

    /// The Redis incarnation token last seen for `namespace` (nil before the first).
    public func redisIncarnation(namespace: String) async throws -> String? {
        try await connection.query("SELECT incarnation FROM redis_incarnations WHERE namespace = $1", [namespace]).first?["incarnation"].string
    }

    /// Stores the Redis incarnation token of `namespace`.
    public func setRedisIncarnation(_ token: String, namespace: String) async throws {
        try await connection.execute("""
            INSERT INTO redis_incarnations (namespace, incarnation) VALUES ($1, $2)
            ON CONFLICT (namespace) DO UPDATE SET incarnation = excluded.incarnation, updated_at = now()
            """, [namespace, token])
    }

    /// Distinct shards that have an outcome.
    public func finishedShardCount(_ id: String) async throws -> Int {
        try await connection.query("SELECT count(*) AS n FROM run_shards WHERE run_id::text = $1", [id]).first?["n"].int ?? 0
    }
}
