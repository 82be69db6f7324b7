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

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// What one write changed.
    public struct Outcome: Sendable, Equatable {
        /// Records newly stored (redelivered ones are not counted).
        public var inserted: Int
        /// Shards newly marked done.
        public var shards: Int
        /// Newly stored records by final status (kept, filtered, failed, duplicate), for metrics.
        public var insertedByStatus: [String: Int] = [:]
    }

    static let columns = [
        "run_id", "position", "sample", "sample_position", "condition", "prompt_hash", "text", "steps", "sampling",
        "model", "finish_reason", "prompt_tokens", "completion_tokens", "status", "reject_reason", "reject_detail",
        "worker", "attempt", "latency_ms",
    ]

    /// Stores the batches; returns what was new. Runs with a ``DedupPlan`` in `dedup`
    /// have their new kept records checked for near duplicates first.
    public func write(_ batches: [ResultBatch], dedup: [String: DedupPlan] = [:]) async throws -> Outcome {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var rows: [[String?]] = []
        for batch in batches {
            for record in batch.records {
                // Text columns cannot hold NUL; an LLM that emits one gets it replaced.
                rows.append([
                    batch.shard.runID, String(record.conditionPosition), String(record.sampleIndex),
                    String(record.samplePosition),
                    String(decoding: try encoder.encode(record.condition), as: UTF8.self),
                    record.promptHash, Self.withoutNUL(record.text),
                    Self.withoutNUL(String(decoding: try encoder.encode(record.steps), as: UTF8.self)),
                    String(decoding: try encoder.encode(record.sampling), as: UTF8.self),
                    record.model, record.finishReason, String(record.promptTokens), String(record.completionTokens),
                    record.status.rawValue, record.reason, record.detail.map(Self.withoutNUL), batch.worker,
                    String(max(1, batch.attempt)), String(record.latencyMilliseconds),
                ])
            }
        }
        let stagedRows = rows
        // Kept, signed records per run that has dedup, in arrival order.
        var signed: [String: [(key: NearDuplicateResolver.Key, signature: [UInt8])]] = [:]
        for batch in batches where dedup[batch.shard.runID] != nil {
            for record in batch.records where record.status == .kept {
                guard let signature = record.signature else { continue }
                signed[batch.shard.runID, default: []].append((
                    NearDuplicateResolver.Key(run: batch.shard.runID, position: Int64(record.conditionPosition), sample: record.sampleIndex),
                    signature
                ))
            }
        }
        let signedRecords = signed
        let shardRows = batches.map { ($0.shard.runID, $0.shard.shard, $0.records.count, $0.worker, max(1, $0.attempt)) }
        let columns = Self.columns
        return try await connection.transaction { connection in
            try connection.execute("""
                CREATE TEMP TABLE IF NOT EXISTS records_in (LIKE records INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
                """)
            if !stagedRows.isEmpty {
                try connection.copy(into: "records_in", columns: columns, rows: stagedRows)
            }
            // Near duplicates, decided before the insert so each record lands with its final status.
            var index = NearDuplicateResolver.Resolution()
            for (runID, records) in signedRecords {
                guard let plan = dedup[runID] else { continue }
                // Records stored by an earlier delivery of the same batch are not decided again.
                let stored = Set(try connection.query("""
                    SELECT i.position, i.sample FROM records_in i
                    JOIN records r ON r.run_id = i.run_id AND r.position = i.position AND r.sample = i.sample
                    WHERE i.run_id = $1::uuid
                    """, [runID]).map { "\($0["position"].string ?? ""):\($0["sample"].string ?? "")" })
                let fresh = records.filter { !stored.contains("\($0.key.position):\($0.key.sample)") }
                let resolution = try NearDuplicateResolver.resolve(fresh, plan: plan, connection: connection)
                index.bandRows += resolution.bandRows
                index.signatureRows += resolution.signatureRows
            }
            let list = (columns + ["duplicate_of_run_id", "duplicate_of_position", "duplicate_of_sample"]).joined(separator: ", ")
            let totals = try connection.query("""
                WITH inserted AS (
                    INSERT INTO records (\(list)) SELECT \(list) FROM records_in
                    ON CONFLICT (run_id, position, sample) DO NOTHING
                    RETURNING run_id, status, condition, coalesce(prompt_tokens, 0) AS pt, coalesce(completion_tokens, 0) AS ct
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
                ), totals AS (
                    SELECT run_id, count(*) AS n,
                           count(*) FILTER (WHERE status = 'kept') AS kept,
                           count(*) FILTER (WHERE status = 'filtered') AS filtered,
                           count(*) FILTER (WHERE status = 'failed') AS failed,
                           count(*) FILTER (WHERE status = 'duplicate') AS duplicate,
                           sum(pt) AS pt, sum(ct) AS ct
                    FROM inserted GROUP BY run_id
                ), updated AS (
                    UPDATE runs SET records_generated = records_generated + totals.n,
                                    records_kept = records_kept + totals.kept,
                                    records_filtered = records_filtered + totals.filtered,
                                    records_failed = records_failed + totals.failed,
                                    records_duplicate = records_duplicate + totals.duplicate,
                                    prompt_tokens = prompt_tokens + totals.pt,
                                    completion_tokens = completion_tokens + totals.ct,
                                    updated_at = now()
                    FROM totals WHERE runs.id = totals.run_id
                    RETURNING totals.n, totals.kept, totals.filtered, totals.failed, totals.duplicate
                )
                SELECT coalesce(sum(n), 0)::bigint AS n, coalesce(sum(kept), 0)::bigint AS kept,
                       coalesce(sum(filtered), 0)::bigint AS filtered, coalesce(sum(failed), 0)::bigint AS failed,
                       coalesce(sum(duplicate), 0)::bigint AS duplicate
                FROM updated
                """).first
            let insertedByStatus = Dictionary(uniqueKeysWithValues: ["kept", "filtered", "failed", "duplicate"].map { ($0, totals?[$0].int ?? 0) })
            if !index.bandRows.isEmpty {
                try connection.copy(into: "lsh_bands", columns: ["scope", "band", "bucket", "run_id", "position", "sample"], rows: index.bandRows)
                try connection.copy(into: "record_signatures", columns: ["run_id", "position", "sample", "signature"], rows: index.signatureRows)
            }
            var shards = 0
            for (runID, shard, count, worker, attempt) in shardRows {
                shards += try connection.execute("""
                    WITH inserted AS (
                        INSERT INTO run_shards (run_id, shard, status, records, worker, attempt)
                        VALUES ($1::uuid, $2, 'done', $3, $4, $5)
                        ON CONFLICT DO NOTHING RETURNING run_id
                    )
                    UPDATE runs SET shards_done = shards_done + 1 FROM inserted WHERE runs.id = inserted.run_id
                    """, [runID, String(shard), String(count), worker, String(attempt)])
            }
            return Outcome(inserted: totals?["n"].int ?? 0, shards: shards, insertedByStatus: insertedByStatus)
        }
    }

    private static func withoutNUL(_ text: String) -> String {
        text.contains("\u{0}") ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
    }
}
