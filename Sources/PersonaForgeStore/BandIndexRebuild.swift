public import PersonaForgeCore
public import PersonaForgePostgres

/// Refills a dedup scope's shared band index (Redis) from the signatures PostgreSQL
/// keeps (`record_signatures`), after the index lost writes (``BandIndexLostError``).
///
/// While it runs, the scope is marked `band_index_rebuilding` and reducers decide
/// none of its records (their batches wait, unacknowledged, and are decided once it
/// is done: nothing is lost). Adding is idempotent, so a rebuild that was interrupted
/// is simply run again. Decisions made before the loss stay as they are.
public enum BandIndexRebuild {
    /// What a rebuild did.
    public struct Outcome: Sendable, Equatable {
        public var scope: String
        public var runs: Int
        public var records: Int
        public var partitions: Int
    }

    /// A scope that cannot be rebuilt (unknown, or its band rows are in `lsh_bands`).
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The scope's partitions earlier calls created, for `SharedBandIndex.addAndProbe`;
    /// throws while a rebuild of the scope is in progress.
    public static func expectedPartitions(scopeID: Int, connection: PostgresConnection) async throws -> Set<Int> {
        let rows = try await connection.query("""
            SELECT s.band_index_rebuilding AS rebuilding, p.partition
            FROM dedup_scopes s LEFT JOIN band_index_partitions p ON p.scope_id = s.id WHERE s.id = $1
            """, [String(scopeID)])
        if rows.contains(where: { $0["rebuilding"].bool == true }) {
            throw BandIndexLostError(scopeID: scopeID, partitions: [], rebuilding: true)
        }
        return Set(rows.compactMap { $0["partition"].int })
    }

    /// Rebuilds scope `scopeID`: the signatures of every run whose dedup plan names the
    /// scope, `pageSize` at a time, added to `index` with their band keys. `plan` gives
    /// a run's plan (default: from its stored config, as the reducer does).
    public static func rebuild(
        scopeID: Int, index: any SharedBandIndex, connection: PostgresConnection, pageSize: Int = 5_000,
        plan planOf: ((String) async throws -> DedupPlan?)? = nil, progress: (Int) -> Void = { _ in }
    ) async throws -> Outcome {
        guard let row = try await connection.query("SELECT scope, band_store FROM dedup_scopes WHERE id = $1", [String(scopeID)]).first,
              let scope = row["scope"].string else {
            throw Refusal(description: "no dedup scope has id \(scopeID) (see `SELECT id, scope, band_store FROM dedup_scopes`)")
        }
        guard row["band_store"].string == "redis" else {
            throw Refusal(description: "dedup scope \(scopeID) (\(scope)) keeps its band index in PostgreSQL (lsh_bands): there is nothing to rebuild in Redis")
        }
        // The runs of the scope and their plans (all share the scope's LSH parameters).
        var plans: [(run: String, plan: DedupPlan)] = []
        let repository = RunRepository(connection: connection)
        let candidates: [String]
        if scope.hasPrefix("run:") {
            candidates = [String(scope.dropFirst(4))]
        } else {
            candidates = try await connection.query("SELECT id::text AS id FROM runs ORDER BY created_at").compactMap { $0["id"].string }
        }
        for run in candidates {
            let plan: DedupPlan?
            if let planOf {
                plan = try await planOf(run)
            } else if let stored = try await repository.stored(id: run) {
                let config = try stored.load().config
                plan = config.dedup.enabled ? try DedupPlan(settings: config.dedup, runID: run, runSeed: config.seed) : nil
            } else {
                plan = nil
            }
            if let plan, plan.scope == scope { plans.append((run, plan)) }
        }
        _ = try await connection.execute("UPDATE dedup_scopes SET band_index_rebuilding = true WHERE id = $1", [String(scopeID)])
        var records = 0
        var created = Set<Int>()
        for (run, plan) in plans {
            var last: Int64 = -1
            while true {
                let rows = try await connection.query("""
                    SELECT id, signature FROM record_signatures WHERE run_id = $1::uuid AND id > $2 ORDER BY id LIMIT $3
                    """, [run, String(last), String(pageSize)])
                if rows.isEmpty { break }
                var entries: [BandEntry] = []
                for row in rows {
                    guard let id = row["id"].int64, let bytes = row["signature"].bytes else { continue }
                    last = max(last, id)
                    guard let signature = try? MinHashSignature(bytes: bytes, expectedCount: plan.permutationCount) else { continue }
                    for (band, bucket) in plan.lsh.bandKeys(of: signature).enumerated() {
                        entries.append(BandEntry(band: band, bucket: bucket, id: id))
                    }
                }
                created.formUnion(try await index.addAndProbe(scopeID: scopeID, entries, expected: []).created)
                records += rows.count
                progress(records)
            }
        }
        // Every partition that holds entries now is expected from here on.
        let createdList = "{" + created.sorted().map(String.init).joined(separator: ",") + "}"
        _ = try await connection.transaction { connection in
            try connection.execute("""
                INSERT INTO band_index_partitions (scope_id, partition) SELECT $1, unnest($2::int[]) ON CONFLICT DO NOTHING
                """, [String(scopeID), createdList])
            try connection.execute("UPDATE dedup_scopes SET band_index_rebuilding = false WHERE id = $1", [String(scopeID)])
        }
        let partitions = try await connection.query(
            "SELECT count(*)::int AS n FROM band_index_partitions WHERE scope_id = $1", [String(scopeID)]).first?["n"].int ?? 0
        return Outcome(scope: scope, runs: plans.count, records: records, partitions: partitions)
    }
}
