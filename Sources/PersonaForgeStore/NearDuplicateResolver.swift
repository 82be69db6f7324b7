import Foundation
import PersonaForgeCore
import PersonaForgePostgres

/// Near-duplicate decisions against the LSH band index in PostgreSQL (`lsh_bands`)
/// and the stored signatures (`record_signatures`), by the ordered rule of
/// ``OrderedDedup`` and without any lock: any number of reducers decide one scope at
/// once, and the outcome does not depend on them.
///
/// Two steps per result batch, in two transactions:
///
/// 1. **Publish** (``publishRows(_:plan:runOrder:scopeID:connection:)``, inside the
///    write transaction that stores the records, before the insert): every kept,
///    signed record new to the database gets a signature row (with its place in
///    the scope's order) and one band row per band. Duplicates stay indexed too.
/// 2. **Decide** (``decide(_:published:plan:scopeID:connection:)``, a transaction of its own, after
///    the first committed): probe the index with the batch's stored signatures, and
///    for every confirmed pair mark the later record a duplicate of the earlier,
///    keeping the earliest pointer. A record's own batch or a later one may mark it,
///    so kept → duplicate happens after the fact, with the counters adjusted.
///
/// A band row is (scope id, band, bucket, signature id, run order, sample position),
/// its primary key ordered by the last two within a bucket; the table is hash
/// partitioned by bucket, the distribution column of a Citus layout.
enum NearDuplicateResolver {
    struct Key: Hashable, Sendable {
        var run: String
        var position: Int64
        var sample: Int
    }

    /// A kept, signed record of a batch, as the writer hands it over.
    struct Candidate {
        var key: Key
        var samplePosition: Int64
        var signature: [UInt8]
    }

    /// What a decide step changed.
    struct Outcome {
        /// Records that went from kept to duplicate in this step (theirs or an earlier batch's).
        var flipped: [Key] = []
    }

    /// Holders per bucket a probe reads at first, before paging on (doubling).
    static let probePage = 8

    /// The holders of the ranges in `lsh_probe` for scope id `$1`, earliest first per
    /// range: one branch per partition of `lsh_bands`, each an index range scan of the
    /// ranges whose bucket hashes to it.
    static let probeQuery: String = {
        let partitions = PersonaForgeSchema.lshBandPartitions
        let branches = (0..<partitions).map { partition in
            """
            SELECT k.item, l.signature_id, l.run_order, l.sample_position
            FROM lsh_probe AS k
            CROSS JOIN LATERAL (
                SELECT signature_id, run_order, sample_position FROM lsh_bands_p\(partition)
                WHERE scope_id = $1 AND band = k.band AND bucket = k.bucket
                  AND (run_order, sample_position) > (k.after_order, k.after_position)
                  AND (run_order, sample_position) < (k.before_order, k.before_position)
                ORDER BY run_order, sample_position LIMIT k.row_limit
            ) AS l
            WHERE satisfies_hash_partition('lsh_bands'::regclass, \(partitions), \(partition), k.bucket)
            """
        }
        return branches.joined(separator: "\nUNION ALL\n")
    }()

    /// Answers `ranges` from `lsh_bands` (``probeQuery``). A place is (run order, sample
    /// position): run orders are unique (migration 11), so that is the whole order, and
    /// a holder's run is found by its run order (`runsByOrder`, read from `runs` when
    /// not known yet).
    static func holders(
        in ranges: [BucketRange], scopeID: Int, runsByOrder: inout [Int64: String], interned: (String) -> String,
        connection: isolated PostgresConnection
    ) throws -> [[(key: Int64, order: DedupOrder)]] {
        if ranges.isEmpty { return [] }
        try connection.execute("""
            CREATE TEMP TABLE IF NOT EXISTS lsh_probe (
                item integer NOT NULL, band smallint NOT NULL, bucket bigint NOT NULL,
                after_order bigint NOT NULL, after_position bigint NOT NULL,
                before_order bigint NOT NULL, before_position bigint NOT NULL, row_limit integer
            ) ON COMMIT DELETE ROWS
            """)
        try connection.execute("DELETE FROM lsh_probe")
        try connection.copy(
            into: "lsh_probe", columns: ["item", "band", "bucket", "after_order", "after_position", "before_order", "before_position", "row_limit"],
            rows: ranges.enumerated().map { item, range -> [String?] in
                [String(item), String(range.band), String(Int64(bitPattern: range.bucket)),
                 String(range.after?.runOrder ?? .min), String(range.after?.samplePosition ?? .min),
                 String(range.before?.runOrder ?? .max), String(range.before?.samplePosition ?? .max),
                 range.limit.map(String.init)]
            })
        var found: [(item: Int, id: Int64, runOrder: Int64, samplePosition: Int64)] = []
        for row in try connection.query(probeQuery, [String(scopeID)]) {
            guard let item = row["item"].int, let id = row["signature_id"].int64, let runOrder = row["run_order"].int64,
                  let samplePosition = row["sample_position"].int64 else { continue }
            found.append((item, id, runOrder, samplePosition))
        }
        let unknownOrders = Set(found.map(\.runOrder)).filter { runsByOrder[$0] == nil }
        if !unknownOrders.isEmpty {
            for row in try connection.query("""
                SELECT id::text AS id, o.run_order FROM unnest($1::bigint[]) AS o (run_order)
                JOIN runs ON (extract(epoch FROM runs.created_at) * 1000000)::bigint = o.run_order
                """, ["{" + unknownOrders.map(String.init).joined(separator: ",") + "}"]) {
                guard let id = row["id"].string, let runOrder = row["run_order"].int64 else { continue }
                runsByOrder[runOrder] = interned(id)
            }
        }
        var answers = [[(key: Int64, order: DedupOrder)]](repeating: [], count: ranges.count)
        for holder in found {
            // A holder whose run is gone cannot be placed in the order: skipped, as a missing signature is.
            guard let run = runsByOrder[holder.runOrder] else { continue }
            answers[holder.item].append((holder.id, DedupOrder(runOrder: holder.runOrder, run: run, samplePosition: holder.samplePosition)))
        }
        for item in answers.indices where answers[item].count > 1 { answers[item].sort { $0.order < $1.order } }
        return answers
    }

    // MARK: Publish

    /// Signature and band rows for `records` (kept records just inserted, of one run),
    /// to COPY into `record_signatures` and `lsh_bands` in the same transaction.
    /// Also returns the published entries by signature id, for ``decide`` to use
    /// without reading them back.
    static func publishRows(
        _ records: [Candidate], plan: DedupPlan, runOrder: Int64, scopeID: Int, connection: isolated PostgresConnection
    ) throws -> (signatures: [[String?]], bands: [[String?]], published: [Int64: OrderedDedupEntry<Key>]) {
        var valid: [(record: Candidate, bands: [UInt64], signature: MinHashSignature)] = []
        for record in records {
            guard let signature = try? MinHashSignature(bytes: record.signature, expectedCount: plan.permutationCount) else { continue }
            valid.append((record, plan.lsh.bandKeys(of: signature), signature))
        }
        if valid.isEmpty { return ([], [], [:]) }
        let ids = try connection.query(
            "SELECT nextval('record_signature_ids') AS id FROM generate_series(1, $1)", [String(valid.count)]
        ).compactMap { $0["id"].int64 }
        guard ids.count == valid.count else {
            throw PostgresError(code: .statementFailed, message: "nextval('record_signature_ids') returned \(ids.count) ids for \(valid.count) records")
        }
        var signatures: [[String?]] = []
        var bands: [[String?]] = []
        var published: [Int64: OrderedDedupEntry<Key>] = [:]
        let scope = String(scopeID)
        for (id, entry) in zip(ids, valid) {
            let signatureID = String(id)
            published[id] = OrderedDedupEntry(
                key: entry.record.key, order: DedupOrder(runOrder: runOrder, run: entry.record.key.run, samplePosition: entry.record.samplePosition),
                signature: entry.signature
            )
            signatures.append([
                signatureID, entry.record.key.run, String(entry.record.key.position), String(entry.record.key.sample),
                hexBytea(entry.record.signature), String(runOrder), String(entry.record.samplePosition),
            ])
            for (band, bucket) in entry.bands.enumerated() {
                bands.append([scope, String(band), String(Int64(bitPattern: bucket)), signatureID, String(runOrder), String(entry.record.samplePosition)])
            }
        }
        return (signatures, bands, published)
    }

    static let signatureColumns = ["id", "run_id", "position", "sample", "signature", "run_order", "sample_position"]
    static let bandColumns = ["scope_id", "band", "bucket", "signature_id", "run_order", "sample_position"]

    // MARK: Decide

    /// Probes the index for `keys` (kept records of one batch, of runs sharing `plan`'s
    /// scope) and applies the marks. Idempotent: run again after a crash or for a
    /// redelivered batch, it changes nothing more. Uses the *stored* signatures, so a
    /// shard that was redone with different text is decided on what was kept.
    /// `published`: what this write itself just published (by signature id), known
    /// without reading it back; the other keys (stored by an earlier delivery) are read.
    /// `external`: the holders a ``SharedBandIndex`` returned for the batch, each with
    /// the band and bucket it holds (its band rows are not in `lsh_bands`); nil probes
    /// `lsh_bands`.
    ///
    /// The probe yields the candidates' ids; their places in the order are read
    /// without their signatures, and signatures only where the rule needs them
    /// (``OrderedDedup/marks(for:threshold:firstPage:candidates:signatures:)``): every
    /// later candidate, and the earlier ones from the earliest on until one is
    /// confirmed. So a record of a family of thousands of near copies reads a few
    /// signatures, not thousands.
    static func decide(
        _ keys: [Key], published: [Int64: OrderedDedupEntry<Key>], plan: DedupPlan, scopeID: Int,
        external: [BandEntry]? = nil, connection: isolated PostgresConnection
    ) throws -> Outcome {
        if keys.isEmpty { return Outcome() }
        // The batch by signature id: what this write published, and the stored rows of
        // the records an earlier delivery stored. The rule runs on ids (cheap to hash
        // and copy), and run ids are interned, so that comparing two places of one run
        // does not compare two copies of its text.
        var runs: [String: String] = [:]
        func interned(_ run: String) -> String {
            if let known = runs[run] { return known }
            runs[run] = run
            return run
        }
        var batch: [Int64: OrderedDedupEntry<Key>] = published
        let publishedKeys = Set(published.values.map(\.key))
        let unknown = keys.filter { !publishedKeys.contains($0) }
        if !unknown.isEmpty {
            batch.merge(try storedEntries(unknown, plan: plan, connection: connection)) { first, _ in first }
        }
        if batch.isEmpty { return Outcome() }

        var places: [Int64: (key: Key, order: DedupOrder)] = [:]
        var entries: [OrderedDedupEntry<Int64>] = []
        var bandKeys: [Int64: [UInt64]] = [:]
        for (id, entry) in batch {
            let order = DedupOrder(runOrder: entry.order.runOrder, run: interned(entry.order.run), samplePosition: entry.order.samplePosition)
            places[id] = (entry.key, order)
            entries.append(OrderedDedupEntry(key: id, order: order, signature: entry.signature))
            bandKeys[id] = plan.lsh.bandKeys(of: entry.signature)
        }
        func loadSignatures(_ ids: [Int64]) throws -> [Int64: MinHashSignature] {
            var result: [Int64: MinHashSignature] = [:]
            for row in try connection.query("SELECT id, signature FROM record_signatures WHERE id = ANY($1::bigint[])",
                                            ["{" + ids.map(String.init).joined(separator: ",") + "}"]) {
                guard let id = row["id"].int64, let bytes = row["signature"].bytes,
                      let signature = try? MinHashSignature(bytes: bytes, expectedCount: plan.permutationCount) else { continue }
                result[id] = signature
            }
            return result
        }
        /// Reads the keys and places of `ids` that `places` does not hold yet.
        func place(_ ids: some Sequence<Int64>) throws {
            let unplaced = Set(ids).filter { places[$0] == nil }
            if unplaced.isEmpty { return }
            for row in try connection.query("""
                SELECT id, run_id::text AS run_id, position, sample, run_order, sample_position FROM record_signatures WHERE id = ANY($1::bigint[])
                """, ["{" + unplaced.map(String.init).joined(separator: ",") + "}"]) {
                guard let id = row["id"].int64, let run = row["run_id"].string, let position = row["position"].int64, let sample = row["sample"].int,
                      let runOrder = row["run_order"].int64, let samplePosition = row["sample_position"].int64 else { continue }
                let interned = interned(run)
                places[id] = (Key(run: interned, position: position, sample: sample),
                              DedupOrder(runOrder: runOrder, run: interned, samplePosition: samplePosition))
            }
        }

        let marks: [Int64: DuplicateMark<Int64>]
        if let external {
            // Where each candidate stands in the order, read without its signature.
            try place(external.map(\.id))
            var byBucket: [BandBucket: [Int64]] = [:]
            for holder in external { byBucket[BandBucket(band: holder.band, bucket: holder.bucket), default: []].append(holder.id) }
            marks = try OrderedDedup.marks(for: entries, threshold: plan.threshold, candidates: { record in
                (bandKeys[record.key] ?? []).enumerated().flatMap { band, bucket in
                    (byBucket[BandBucket(band: band, bucket: bucket)] ?? []).compactMap { id in places[id].map { (id, $0.order) } }
                }
            }, signatures: loadSignatures)
        } else {
            // `lsh_bands` keeps each bucket in the order: a record reads its bucket's
            // earliest holders and its later ones, not every holder (migration 11).
            var runsByOrder: [Int64: String] = [:]
            for entry in entries { runsByOrder[entry.order.runOrder] = entry.order.run }
            marks = try OrderedDedup.marks(
                for: entries, threshold: plan.threshold, bandKeys: { bandKeys[$0.key] ?? [] }, pageSize: Self.probePage,
                holders: { ranges in try holders(in: ranges, scopeID: scopeID, runsByOrder: &runsByOrder, interned: interned, connection: connection) },
                signatures: loadSignatures)
            try place(marks.values.flatMap { [$0.target, $0.original] })
        }
        var byKey: [Key: DuplicateMark<Key>] = [:]
        for (target, mark) in marks {
            guard let targetKey = places[target]?.key, let originalKey = places[mark.original]?.key else { continue }
            let converted = DuplicateMark(target: targetKey, original: originalKey, originalOrder: mark.originalOrder, similarity: mark.similarity)
            byKey[targetKey] = byKey[targetKey].map { $0.earlier(converted) } ?? converted
        }
        return try apply(byKey, connection: connection)
    }

    /// One bucket of one band.
    struct BandBucket: Hashable {
        var band: Int
        var bucket: UInt64
    }

    /// The stored signature rows of `keys` (of one scope's runs), by signature id: what a
    /// redelivered batch's records were published with.
    static func storedEntries(_ keys: [Key], plan: DedupPlan, connection: isolated PostgresConnection) throws -> [Int64: OrderedDedupEntry<Key>] {
        if keys.isEmpty { return [:] }
        var entries: [Int64: OrderedDedupEntry<Key>] = [:]
        for row in try connection.query("""
            SELECT id, run_id::text AS run_id, position, sample, signature, run_order, sample_position FROM record_signatures
            WHERE (run_id, position, sample) IN (SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::int[]))
            """, [arrayLiteral(keys.map(\.run)), arrayLiteral(keys.map { String($0.position) }), arrayLiteral(keys.map { String($0.sample) })]) {
            guard let id = row["id"].int64, let run = row["run_id"].string, let position = row["position"].int64, let sample = row["sample"].int,
                  let bytes = row["signature"].bytes, let runOrder = row["run_order"].int64, let samplePosition = row["sample_position"].int64,
                  let signature = try? MinHashSignature(bytes: bytes, expectedCount: plan.permutationCount) else { continue }
            let key = Key(run: run, position: position, sample: sample)
            entries[id] = OrderedDedupEntry(key: key, order: DedupOrder(runOrder: runOrder, run: run, samplePosition: samplePosition), signature: signature)
        }
        return entries
    }

    /// Stored signatures with their order, keyed by record.
    private static func entries(
        where condition: String, _ parameters: [String], plan: DedupPlan, connection: isolated PostgresConnection
    ) throws -> [Key: OrderedDedupEntry<Key>] {
        var entries: [Key: OrderedDedupEntry<Key>] = [:]
        for row in try connection.query("""
            SELECT run_id::text AS run_id, position, sample, signature, run_order, sample_position FROM record_signatures WHERE \(condition)
            """, parameters) {
            guard let run = row["run_id"].string, let position = row["position"].int64, let sample = row["sample"].int,
                  let bytes = row["signature"].bytes, let runOrder = row["run_order"].int64, let samplePosition = row["sample_position"].int64,
                  let signature = try? MinHashSignature(bytes: bytes, expectedCount: plan.permutationCount) else { continue }
            let key = Key(run: run, position: position, sample: sample)
            entries[key] = OrderedDedupEntry(key: key, order: DedupOrder(runOrder: runOrder, run: run, samplePosition: samplePosition), signature: signature)
        }
        return entries
    }

    /// Marks duplicates: kept → duplicate (counters and coverage moved in the same
    /// statement), and a duplicate's pointer moved to an earlier original. Target rows
    /// are locked in key order first, so concurrent deciders never deadlock on them.
    private static func apply(_ marks: [Key: DuplicateMark<Key>], connection: isolated PostgresConnection) throws -> Outcome {
        if marks.isEmpty { return Outcome() }
        try connection.execute("""
            CREATE TEMP TABLE IF NOT EXISTS dedup_marks (
                run_id uuid, position bigint, sample integer,
                of_run_id uuid, of_position bigint, of_sample integer, of_run_order bigint, of_sample_position bigint, detail text
            ) ON COMMIT DELETE ROWS
            """)
        try connection.execute("DELETE FROM dedup_marks")
        try connection.copy(into: "dedup_marks", columns: [
            "run_id", "position", "sample", "of_run_id", "of_position", "of_sample", "of_run_order", "of_sample_position", "detail",
        ], rows: marks.values.map { mark in
            [
                mark.target.run, String(mark.target.position), String(mark.target.sample),
                mark.original.run, String(mark.original.position), String(mark.original.sample),
                String(mark.originalOrder.runOrder), String(mark.originalOrder.samplePosition),
                String(format: "estimated Jaccard %.3f with run %@ position %lld sample %d", mark.similarity,
                       mark.original.run, mark.original.position, mark.original.sample),
            ]
        })
        _ = try connection.query("""
            SELECT 1 FROM records r JOIN dedup_marks m USING (run_id, position, sample)
            ORDER BY r.run_id, r.position, r.sample FOR UPDATE OF r
            """)
        let flipped = try connection.query("""
            WITH flipped AS (
                UPDATE records r SET status = 'duplicate', reject_reason = 'near_duplicate',
                    duplicate_of_run_id = m.of_run_id, duplicate_of_position = m.of_position, duplicate_of_sample = m.of_sample,
                    reject_detail = m.detail
                FROM dedup_marks m
                WHERE r.run_id = m.run_id AND r.position = m.position AND r.sample = m.sample AND r.status = 'kept'
                RETURNING r.run_id, r.position, r.sample, r.condition
            ), coverage AS (
                UPDATE axis_coverage a SET kept = a.kept - f.n, duplicate = a.duplicate + f.n, updated_at = now()
                FROM (
                    SELECT run_id, c->>'axis' AS axis, (c->>'index')::bigint AS value_index, count(*) AS n
                    FROM flipped, jsonb_array_elements(condition) AS c GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                ) AS f
                WHERE a.run_id = f.run_id AND a.axis = f.axis AND a.value_index = f.value_index
            ), totals AS (
                SELECT run_id, count(*) AS n FROM flipped GROUP BY run_id
            ), counted AS (
                UPDATE runs SET records_kept = records_kept - totals.n, records_duplicate = records_duplicate + totals.n, updated_at = now()
                FROM totals WHERE runs.id = totals.run_id
            )
            SELECT run_id::text AS run_id, position, sample FROM flipped
            """)
        let flippedKeys = flipped.compactMap { row -> Key? in
            guard let run = row["run_id"].string, let position = row["position"].int64, let sample = row["sample"].int else { return nil }
            return Key(run: run, position: position, sample: sample)
        }
        // A duplicate already pointing at a later original than this mark's: point it
        // earlier. Only a mark whose target did not flip can need it, and usually every
        // target flips: skipped then (as a join the planner scanned `record_signatures`
        // for it, 83 ms per batch for no row, measured with pg_stat_statements).
        let unflipped = Set(marks.keys).subtracting(flippedKeys)
        if !unflipped.isEmpty {
            try connection.execute("""
                UPDATE records r SET duplicate_of_run_id = m.of_run_id, duplicate_of_position = m.of_position,
                    duplicate_of_sample = m.of_sample, reject_detail = m.detail
                FROM dedup_marks m
                WHERE (m.run_id, m.position, m.sample) IN (SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::int[]))
                  AND r.run_id = m.run_id AND r.position = m.position AND r.sample = m.sample
                  AND r.status = 'duplicate' AND r.reject_reason = 'near_duplicate'
                  AND (m.of_run_order, m.of_run_id, m.of_sample_position) < (
                      SELECT cur.run_order, cur.run_id, cur.sample_position FROM record_signatures cur
                      WHERE cur.run_id = r.duplicate_of_run_id AND cur.position = r.duplicate_of_position AND cur.sample = r.duplicate_of_sample)
                """, [arrayLiteral(unflipped.map(\.run)), arrayLiteral(unflipped.map { String($0.position) }), arrayLiteral(unflipped.map { String($0.sample) })])
        }
        return Outcome(flipped: flippedKeys)
    }

    // MARK: Scopes and encoding

    /// The id of `scope` in `dedup_scopes`, created on first use. Concurrent first uses
    /// are safe: the loser's insert does nothing and the next statement sees the row.
    static func scopeID(_ scope: String, bandStore: String = "postgres", connection: isolated PostgresConnection) throws -> Int {
        for _ in 0..<2 {
            if let row = try connection.query("SELECT id, band_store FROM dedup_scopes WHERE scope = $1", [scope]).first, let id = row["id"].int {
                let stored = row["band_store"].string ?? "postgres"
                guard stored == bandStore else {
                    throw PostgresError(code: .statementFailed, message: """
                        dedup scope \(scope) keeps its band index in \(stored), but this reducer was started with the index in \(bandStore): \
                        start every reducer of these runs with the same --band-index-url (\(stored == "redis" ? "a redis:// URL" : "none"))
                        """)
                }
                return id
            }
            if let id = try connection.query(
                "INSERT INTO dedup_scopes (scope, band_store) VALUES ($1, $2) ON CONFLICT (scope) DO NOTHING RETURNING id", [scope, bandStore]
            ).first?["id"].int { return id }
        }
        throw PostgresError(code: .statementFailed, message: "no dedup_scopes row for scope \(scope)")
    }

    /// The run's place in the order of runs: its `created_at` in microseconds.
    static func runOrder(_ runID: String, connection: isolated PostgresConnection) throws -> Int64 {
        guard let order = try connection.query(
            "SELECT (extract(epoch FROM created_at) * 1000000)::bigint AS run_order FROM runs WHERE id = $1::uuid", [runID]
        ).first?["run_order"].int64 else {
            throw PostgresError(code: .statementFailed, message: "run \(runID) is not in the database")
        }
        return order
    }

    /// A PostgreSQL array literal of plain values (uuids, integers: nothing to quote).
    private static func arrayLiteral(_ values: [String]) -> String { "{" + values.joined(separator: ",") + "}" }

    /// `bytes` in bytea hex input form (`\\x0a1b…`), for COPY text.
    static func hexBytea(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 2 + bytes.count * 2)
        out[0] = UInt8(ascii: "\\")
        out[1] = UInt8(ascii: "x")
        for (i, byte) in bytes.enumerated() {
            out[2 + 2 * i] = digits[Int(byte >> 4)]
            out[3 + 2 * i] = digits[Int(byte & 0x0F)]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
