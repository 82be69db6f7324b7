import Foundation
public import PersonaForgeCore
public import PersonaForgePostgres

/// Writes result batches in one transaction each call: COPY into a session-local
/// staging table, then one idempotent insert keyed by (run, position, sample).
///
/// Redelivered batches insert nothing and change no counter: counters are updated
/// from the rows the insert actually returned, in the same transaction.
public struct RecordWriter: Sendable {
    public let connection: PostgresConnection
    /// Where the band rows go: nil keeps them in PostgreSQL (`lsh_bands`); a shared
    /// index (Redis / Redis Cluster) takes them instead, and the signatures stay here.
    public let bandIndex: (any SharedBandIndex)?

    public init(connection: PostgresConnection, bandIndex: (any SharedBandIndex)? = nil) {
        self.connection = connection
        self.bandIndex = bandIndex
    }

    /// What one write changed.
    public struct Outcome: Sendable, Equatable {
        /// Records newly stored (redelivered ones are not counted).
        public var inserted: Int
        /// Shards newly marked done.
        public var shards: Int
        /// The kept records this transaction really inserted, in arrival order
        /// (a redelivered record is absent: an earlier transaction stored it).
        public var kept: [KeptRecord] = []
        /// Newly stored records by final status (kept, filtered, failed, duplicate), for metrics.
        public var insertedByStatus: [String: Int] = [:]
        /// Records stored by earlier writes that this one found to be near duplicates of
        /// an earlier record in sample order (they were kept until then).
        public var duplicatesMarkedLater = 0
    }

    /// A kept record newly inserted by one write.
    public struct KeptRecord: Sendable, Equatable {
        public var run: String
        public var position: Int64
        public var sample: Int
        /// The text as stored.
        public var text: String

        public init(run: String, position: Int64, sample: Int, text: String) {
            self.run = run
            self.position = position
            self.sample = sample
            self.text = text
        }
    }

    /// Work done inside the write transaction, after the insert, with the kept records
    /// it really inserted (e.g. live diversity state): it commits or rolls back with them.
    public typealias TransactionHook = @Sendable (isolated PostgresConnection, [KeptRecord]) throws -> Void

    /// The `records` columns a result batch fills, in COPY order.
    public static let columns = [
        "run_id", "position", "sample", "sample_position", "condition", "prompt_hash", "text", "steps", "sampling",
        "model", "finish_reason", "prompt_tokens", "completion_tokens", "status", "reject_reason", "reject_detail",
        "worker", "attempt", "latency_ms", "cost",
    ]

    /// Stores the batches; returns what was new. Runs with a ``DedupPlan`` in `dedup`
    /// have their kept records published to the band index with the records, then
    /// decided in a second transaction (``NearDuplicateResolver``: no lock, the ordered
    /// rule); `hook` runs in the transaction that settles the kept records (the second
    /// one when there is dedup) with the kept records really inserted and still kept.
    public func write(_ batches: [ResultBatch], dedup: [String: DedupPlan] = [:], hook: TransactionHook? = nil) async throws -> Outcome {
        var rows: [[String?]] = []
        for batch in batches {
            for record in batch.records {
                // Text columns cannot hold NUL; an LLM that emits one gets it replaced.
                rows.append([
                    batch.shard.runID, String(record.conditionPosition), String(record.sampleIndex),
                    String(record.samplePosition),
                    RecordJSON.condition(record.condition),
                    record.promptHash, Self.withoutNUL(record.text),
                    RecordJSON.steps(Self.withoutNUL(record.steps)),
                    RecordJSON.sampling(record.sampling),
                    record.model, record.finishReason, String(record.promptTokens), String(record.completionTokens),
                    record.status.rawValue, record.reason, record.detail.map(Self.withoutNUL), batch.worker,
                    String(max(1, batch.attempt)), String(record.latencyMilliseconds), record.cost.map { String($0) },
                ])
            }
        }
        let stagedRows = rows
        // Kept, signed records per run that has dedup, in arrival order.
        var signed: [String: [NearDuplicateResolver.Candidate]] = [:]
        for batch in batches where dedup[batch.shard.runID] != nil {
            for record in batch.records where record.status == .kept {
                guard let signature = record.signature else { continue }
                signed[batch.shard.runID, default: []].append(NearDuplicateResolver.Candidate(
                    key: NearDuplicateResolver.Key(run: batch.shard.runID, position: Int64(record.conditionPosition), sample: record.sampleIndex),
                    samplePosition: Int64(record.samplePosition), signature: signature
                ))
            }
        }
        let signedRecords = signed
        // Kept records in arrival order (a batch may carry a key twice only if a worker
        // is broken; the first one wins, as the insert does).
        var keptCandidates: [KeptRecord] = []
        for batch in batches {
            for record in batch.records where record.status == .kept {
                keptCandidates.append(KeptRecord(
                    run: batch.shard.runID, position: Int64(record.conditionPosition), sample: record.sampleIndex,
                    text: Self.withoutNUL(record.text)
                ))
            }
        }
        let keptInArrivalOrder = keptCandidates
        let shardRows = batches.map { ($0.shard.runID, $0.shard.shard, $0.records.count, $0.worker, max(1, $0.attempt)) }
        let columns = Self.columns
        let decidesLater = !signedRecords.isEmpty
        let bandsInPostgres = bandIndex == nil
        let bandStore = bandsInPostgres ? "postgres" : "redis"
        var (outcome, published, publishedScopeIDs) = try await connection.transaction { connection in
            try connection.execute("""
                CREATE TEMP TABLE IF NOT EXISTS records_in (LIKE records INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
                """)
            if !stagedRows.isEmpty {
                try connection.copy(into: "records_in", columns: columns, rows: stagedRows)
            }
            // Publish the kept, signed records new to the database to the band index
            // (NearDuplicateResolver; they are decided once this commits). First, so the hot
            // rows the insert below updates (run counters, coverage) stay locked only briefly;
            // the signatures' foreign key to their records is checked at commit.
            var published: [String: [Int64: OrderedDedupEntry<NearDuplicateResolver.Key>]] = [:]
            var scopeIDs: [String: Int] = [:]
            var signatureRows: [[String?]] = []
            var bandRows: [[String?]] = []
            for (runID, records) in signedRecords {
                guard let plan = dedup[runID] else { continue }
                let stored = Set(try connection.query("""
                    SELECT position, sample FROM records
                    WHERE run_id = $1::uuid AND (position, sample) IN (SELECT * FROM unnest($2::bigint[], $3::int[]))
                    """, [runID, "{" + records.map { String($0.key.position) }.joined(separator: ",") + "}",
                          "{" + records.map { String($0.key.sample) }.joined(separator: ",") + "}"]
                ).compactMap { row in row["position"].int64.flatMap { position in row["sample"].int.map { "\(position):\($0)" } } })
                // Once per key: two batches of one shard in one write carry the same keys.
                var seen = Set<NearDuplicateResolver.Key>()
                let fresh = records.filter { !stored.contains("\($0.key.position):\($0.key.sample)") && seen.insert($0.key).inserted }
                if fresh.isEmpty { continue }
                let scopeID = try NearDuplicateResolver.scopeID(plan.scope, bandStore: bandStore, connection: connection)
                scopeIDs[plan.scope] = scopeID
                let rows = try NearDuplicateResolver.publishRows(
                    fresh, plan: plan, runOrder: try NearDuplicateResolver.runOrder(runID, connection: connection),
                    scopeID: scopeID, connection: connection
                )
                signatureRows += rows.signatures
                bandRows += rows.bands
                published[runID] = rows.published
            }
            if !signatureRows.isEmpty {
                try connection.copy(into: "record_signatures", columns: NearDuplicateResolver.signatureColumns, rows: signatureRows)
                if bandsInPostgres {
                    try connection.copy(into: "lsh_bands", columns: NearDuplicateResolver.bandColumns, rows: bandRows)
                }
            }
            let list = (columns + ["duplicate_of_run_id", "duplicate_of_position", "duplicate_of_sample"]).joined(separator: ", ")
            let insertedRows = try connection.query("""
                WITH inserted AS (
                    INSERT INTO records (\(list)) SELECT \(list) FROM records_in
                    ON CONFLICT (run_id, position, sample) DO NOTHING
                    RETURNING run_id, position, sample, status, reject_reason, condition, coalesce(prompt_tokens, 0) AS pt, coalesce(completion_tokens, 0) AS ct,
                              coalesce(cost, 0) AS cost
                ), coverage AS (
                    -- Yield per axis value: which personas / topics produce usable data.
                    INSERT INTO axis_coverage AS a (run_id, axis, value_index, value_label, generated, kept, filtered, failed, duplicate, tokens)
                    SELECT run_id, c->>'axis', (c->>'index')::bigint, left(c->'value'->>'text', 200), count(*),
                           count(*) FILTER (WHERE status = 'kept'), count(*) FILTER (WHERE status = 'filtered'),
                           count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'duplicate'), sum(pt + ct)
                    FROM inserted, jsonb_array_elements(condition) AS c
                    GROUP BY 1, 2, 3, 4
                    ON CONFLICT (run_id, axis, value_index) DO UPDATE SET
                        generated = a.generated + EXCLUDED.generated, kept = a.kept + EXCLUDED.kept,
                        filtered = a.filtered + EXCLUDED.filtered, failed = a.failed + EXCLUDED.failed,
                        duplicate = a.duplicate + EXCLUDED.duplicate, tokens = a.tokens + EXCLUDED.tokens, updated_at = now()
                ), reasons AS (
                    -- Why the records of each axis value were filtered or failed.
                    INSERT INTO axis_reject_reasons AS x (run_id, axis, value_index, status, reason, records)
                    SELECT run_id, c->>'axis', (c->>'index')::bigint, status, coalesce(reject_reason, 'unknown'), count(*)
                    FROM inserted, jsonb_array_elements(condition) AS c
                    WHERE status IN ('filtered', 'failed')
                    GROUP BY 1, 2, 3, 4, 5
                    ON CONFLICT (run_id, axis, value_index, status, reason) DO UPDATE SET records = x.records + EXCLUDED.records
                ), totals AS (
                    SELECT run_id, count(*) AS n,
                           count(*) FILTER (WHERE status = 'kept') AS kept,
                           count(*) FILTER (WHERE status = 'filtered') AS filtered,
                           count(*) FILTER (WHERE status = 'failed') AS failed,
                           count(*) FILTER (WHERE status = 'duplicate') AS duplicate,
                           sum(pt) AS pt, sum(ct) AS ct, sum(cost) AS cost
                    FROM inserted GROUP BY run_id
                ), updated AS (
                    UPDATE runs SET records_generated = records_generated + totals.n,
                                    records_kept = records_kept + totals.kept,
                                    records_filtered = records_filtered + totals.filtered,
                                    records_failed = records_failed + totals.failed,
                                    records_duplicate = records_duplicate + totals.duplicate,
                                    prompt_tokens = prompt_tokens + totals.pt,
                                    completion_tokens = completion_tokens + totals.ct,
                                    cost = runs.cost + totals.cost,
                                    updated_at = now()
                    FROM totals WHERE runs.id = totals.run_id
                    RETURNING totals.n, totals.kept, totals.filtered, totals.failed, totals.duplicate
                )
                -- One row at least (the counts), plus the keys of the kept records inserted.
                SELECT (SELECT coalesce(sum(n), 0)::bigint FROM updated) AS n,
                       (SELECT coalesce(sum(kept), 0)::bigint FROM updated) AS kept_n,
                       (SELECT coalesce(sum(filtered), 0)::bigint FROM updated) AS filtered_n,
                       (SELECT coalesce(sum(failed), 0)::bigint FROM updated) AS failed_n,
                       (SELECT coalesce(sum(duplicate), 0)::bigint FROM updated) AS duplicate_n,
                       k.run_id, k.position, k.sample
                FROM (SELECT 1) AS one
                LEFT JOIN (SELECT run_id::text AS run_id, position, sample FROM inserted WHERE status = 'kept') AS k ON true
                """)
            let inserted = insertedRows.first?["n"].int ?? 0
            let insertedByStatus = Dictionary(uniqueKeysWithValues: ["kept", "filtered", "failed", "duplicate"].map {
                ($0, insertedRows.first?["\($0)_n"].int ?? 0)
            })
            var insertedKept = Set<String>()
            for row in insertedRows {
                if let run = row["run_id"].string, let position = row["position"].string, let sample = row["sample"].string {
                    insertedKept.insert("\(run):\(position):\(sample)")
                }
            }
            var kept: [KeptRecord] = []
            for record in keptInArrivalOrder where insertedKept.remove("\(record.run):\(record.position):\(record.sample)") != nil {
                kept.append(record)
            }
            // A shard is done once its records are decided: with dedup, in the decide
            // transaction, so that a run is never completed before its last marks.
            let shards = decidesLater ? 0 : try Self.recordShardsDone(shardRows, connection: connection)
            if !decidesLater { try hook?(connection, kept) }
            return (Outcome(inserted: inserted, shards: shards, kept: kept, insertedByStatus: insertedByStatus), published, scopeIDs)
        }
        guard decidesLater else { return outcome }
        let publishedByRun = published

        // Decide, now that this batch's records are visible to every other reducer. All the
        // batch's kept records are decided, also those an earlier delivery stored (its
        // decide step may not have run): deciding again changes nothing.
        let newlyKept = outcome.kept
        var byScope: [String: (plan: DedupPlan, keys: [NearDuplicateResolver.Key], published: [Int64: OrderedDedupEntry<NearDuplicateResolver.Key>])] = [:]
        for (runID, records) in signedRecords {
            guard let plan = dedup[runID] else { continue }
            byScope[plan.scope, default: (plan, [], [:])].keys += records.map(\.key)
            byScope[plan.scope]?.published.merge(publishedByRun[runID] ?? [:]) { first, _ in first }
        }
        // With a shared index: add the batch's band keys (also of records an earlier
        // delivery stored, which may never have reached the index) and collect the
        // candidates, between the two transactions.
        var external: [String: [BandEntry]] = [:]
        if let bandIndex {
            for (scope, work) in byScope.sorted(by: { $0.key < $1.key }) {
                let publishedKeys = Set(work.published.values.map(\.key))
                let unknown = work.keys.filter { !publishedKeys.contains($0) }
                let plan = work.plan
                var known = work.published
                let scopeID: Int
                // Only a redelivery (records stored before) or a batch that published
                // nothing new needs a read: the usual batch was all just published.
                if unknown.isEmpty, let published = publishedScopeIDs[scope] {
                    scopeID = published
                } else {
                    let (id, stored) = try await connection.transaction { connection in
                        (try NearDuplicateResolver.scopeID(scope, bandStore: bandStore, connection: connection),
                         try NearDuplicateResolver.storedEntries(unknown, plan: plan, connection: connection))
                    }
                    scopeID = id
                    known.merge(stored) { first, _ in first }
                    byScope[scope]?.published = known
                }
                var entries: [BandEntry] = []
                for (id, entry) in known {
                    for (band, bucket) in plan.lsh.bandKeys(of: entry.signature).enumerated() {
                        entries.append(BandEntry(band: band, bucket: bucket, id: id))
                    }
                }
                // The partitions earlier calls created must still be there (a Redis that
                // lost them would let near duplicates through); those this call creates
                // are recorded for the next calls.
                let expected = try await BandIndexRebuild.expectedPartitions(scopeID: scopeID, connection: connection)
                let probe = try await bandIndex.addAndProbe(scopeID: scopeID, entries, expected: expected)
                if !probe.created.isEmpty {
                    try await connection.execute("""
                        INSERT INTO band_index_partitions (scope_id, partition) SELECT $1, unnest($2::int[]) ON CONFLICT DO NOTHING
                        """, [String(scopeID), "{" + probe.created.sorted().map(String.init).joined(separator: ",") + "}"])
                }
                // Each holder with the bucket it was found in: which record of the batch it is a candidate of.
                external[scope] = zip(entries, probe.holders).flatMap { entry, holders in
                    holders.map { BandEntry(band: entry.band, bucket: entry.bucket, id: $0) }
                }
            }
        }
        let work = byScope, candidates = external
        let shardOutcomes = shardRows
        let (flipped, shards): (Set<NearDuplicateResolver.Key>, Int) = try await connection.transaction { connection in
            var flipped = Set<NearDuplicateResolver.Key>()
            for (scope, work) in work.sorted(by: { $0.key < $1.key }) {
                let scopeID = try NearDuplicateResolver.scopeID(scope, bandStore: bandStore, connection: connection)
                flipped.formUnion(try NearDuplicateResolver.decide(
                    work.keys, published: work.published, plan: work.plan, scopeID: scopeID, external: candidates[scope], connection: connection).flipped)
            }
            let stillKept = newlyKept.filter { !flipped.contains(NearDuplicateResolver.Key(run: $0.run, position: $0.position, sample: $0.sample)) }
            try hook?(connection, stillKept)
            return (flipped, try Self.recordShardsDone(shardOutcomes, connection: connection))
        }
        outcome.shards = shards
        let flippedNow = outcome.kept.filter { flipped.contains(NearDuplicateResolver.Key(run: $0.run, position: $0.position, sample: $0.sample)) }.count
        outcome.kept.removeAll { flipped.contains(NearDuplicateResolver.Key(run: $0.run, position: $0.position, sample: $0.sample)) }
        outcome.insertedByStatus["kept", default: 0] -= flippedNow
        outcome.insertedByStatus["duplicate", default: 0] += flippedNow
        outcome.duplicatesMarkedLater = flipped.count - flippedNow
        return outcome
    }

    /// Records each shard's outcome (`done`) once; returns how many were new. A shard
    /// recorded before (a redelivery) changes nothing.
    private static func recordShardsDone(
        _ shards: [(String, Int, Int, String, Int)], connection: isolated PostgresConnection
    ) throws -> Int {
        var recorded = 0
        for (runID, shard, count, worker, attempt) in shards {
            recorded += try connection.execute("""
                WITH inserted AS (
                    INSERT INTO run_shards (run_id, shard, status, records, worker, attempt)
                    VALUES ($1::uuid, $2, 'done', $3, $4, $5)
                    ON CONFLICT DO NOTHING RETURNING run_id
                )
                UPDATE runs SET shards_done = shards_done + 1 FROM inserted WHERE runs.id = inserted.run_id
                """, [runID, String(shard), String(count), worker, String(attempt)])
        }
        return recorded
    }

    /// The text with every NUL replaced by U+FFFD. `utf8.contains(0)` and not
    /// `contains("\u{0}")`: Foundation's substring search cost 12 % of the reducer's CPU.
    private static func withoutNUL(_ text: String) -> String {
        text.utf8.contains(0) ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
    }

    /// The steps with NULs replaced in their texts (jsonb refuses the escape `\u0000`).
    private static func withoutNUL(_ steps: [GeneratedRecord.Step]) -> [GeneratedRecord.Step] {
        guard steps.contains(where: { $0.text.utf8.contains(0) }) else { return steps }
        return steps.map { step in
            var step = step
            step.text = withoutNUL(step.text)
            return step
        }
    }
}
