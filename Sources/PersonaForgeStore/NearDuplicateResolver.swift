import Foundation
import PersonaForgeCore
import PersonaForgePostgres

/// Decides, inside the reducer's write transaction, which new kept records are near
/// duplicates of an earlier record in their dedup scope, using the LSH band index in
/// PostgreSQL (`lsh_bands`) and the stored signatures (`record_signatures`).
///
/// A transaction-scoped advisory lock per scope serializes deciders, so two reducers
/// never both keep two near-duplicates; the index survives restarts because it *is*
/// the database. Only records kept as unique are indexed (first seen wins).
enum NearDuplicateResolver {
    struct Key: Hashable {
        var run: String
        var position: Int64
        var sample: Int
    }

    struct Decision {
        var key: Key
        var duplicateOf: Key
        var similarity: Double
    }

    /// What to change: duplicates to mark, and index rows for the unique records (to
    /// COPY once the records themselves are inserted, since signatures reference them).
    struct Resolution {
        var duplicates: [Decision] = []
        var bandRows: [[String?]] = []
        var signatureRows: [[String?]] = []
    }

    /// Earlier index rows of the keys in `lsh_probe` for scope `$1`: one branch per
    /// partition of `lsh_bands`, each probing only the keys that hash to it.
    static let probeQuery: String = {
        let partitions = PersonaForgeSchema.lshBandPartitions
        let branches = (0..<partitions).map { partition in
            """
            SELECT k.band, k.bucket, l.run_id, l.position, l.sample, l.created_at
            FROM lsh_probe AS k
            CROSS JOIN LATERAL (
                SELECT run_id, position, sample, created_at FROM lsh_bands_p\(partition)
                WHERE scope = $1 AND band = k.band AND bucket = k.bucket OFFSET 0
            ) AS l
            WHERE satisfies_hash_partition('lsh_bands'::regclass, \(partitions), \(partition), k.bucket)
            """
        }
        return "SELECT band, bucket, run_id::text AS run_id, position, sample FROM (\n"
            + branches.joined(separator: "\nUNION ALL\n")
            + "\n) AS found ORDER BY created_at, run_id, position, sample"
    }()

    /// Marks duplicates in `records_in` and returns the index rows of the unique ones.
    /// `records` are one run's new kept records in arrival order.
    static func resolve(_ records: [(key: Key, signature: [UInt8])], plan: DedupPlan, connection: isolated PostgresConnection) throws -> Resolution {
        // Two result batches of one shard can arrive in one read (a shard redone after its
        // lease expired): its records are decided once, at their first occurrence.
        var seen = Set<Key>()
        let records = records.filter { seen.insert($0.key).inserted }
        if records.isEmpty { return Resolution() }
        _ = try connection.query("SELECT pg_advisory_xact_lock(hashtext($1)) AS locked", ["pf-dedup:" + plan.scope])

        var signatures: [Key: MinHashSignature] = [:]
        var bandKeys: [Key: [Int64]] = [:]
        var lookupBands: [String] = []
        var lookupBuckets: [String] = []
        for record in records {
            guard let signature = try? MinHashSignature(bytes: record.signature, expectedCount: plan.permutationCount) else { continue }
            signatures[record.key] = signature
            let keys = plan.lsh.bandKeys(of: signature).map { Int64(bitPattern: $0) }
            bandKeys[record.key] = keys
            for (band, bucket) in keys.enumerated() {
                lookupBands.append(String(band))
                lookupBuckets.append(String(bucket))
            }
        }

        // Earlier records sharing any band bucket, earliest first. The batch's (band, bucket)
        // keys are copied into a session-local table; each partition of `lsh_bands` is then
        // probed by name with the keys that hash to it (`satisfies_hash_partition`, the check
        // behind PostgreSQL's own hash partition constraints), one primary-key probe per key.
        // That skips the per-probe partition pruning of a probe through the parent table, which
        // cost about 3× more (docs/dedup.md). OFFSET 0 keeps the planner from turning a probe
        // into a hash join over the partition, whose cost would grow with the index.
        var earlier: [String: [Key]] = [:]  // "band:bucket" → keys
        var earlierOrder: [Key: Int] = [:]
        try connection.execute("""
            CREATE TEMP TABLE IF NOT EXISTS lsh_probe (band smallint NOT NULL, bucket bigint NOT NULL) ON COMMIT DELETE ROWS
            """)
        try connection.execute("DELETE FROM lsh_probe")  // another run's keys, earlier in this transaction
        try connection.copy(into: "lsh_probe", columns: ["band", "bucket"], rows: zip(lookupBands, lookupBuckets).map { [$0, $1] })
        let rows = try connection.query(Self.probeQuery, [plan.scope])
        for row in rows {
            let key = Key(run: row["run_id"].string ?? "", position: row["position"].int64 ?? 0, sample: row["sample"].int ?? 0)
            earlier["\(row["band"].string ?? ""):\(row["bucket"].string ?? "")", default: []].append(key)
            if earlierOrder[key] == nil { earlierOrder[key] = earlierOrder.count }
        }
        var known: [Key: MinHashSignature] = [:]
        if !earlierOrder.isEmpty {
            let keys = Array(earlierOrder.keys)
            let found = try connection.query("""
                SELECT run_id::text AS run_id, position, sample, signature FROM record_signatures
                WHERE (run_id, position, sample) IN (SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::int[]))
                """, [
                    "{" + keys.map(\.run).joined(separator: ",") + "}",
                    "{" + keys.map { String($0.position) }.joined(separator: ",") + "}",
                    "{" + keys.map { String($0.sample) }.joined(separator: ",") + "}",
                ])
            for row in found {
                let key = Key(run: row["run_id"].string ?? "", position: row["position"].int64 ?? 0, sample: row["sample"].int ?? 0)
                if let bytes = row["signature"].bytes, let signature = try? MinHashSignature(bytes: bytes, expectedCount: plan.permutationCount) {
                    known[key] = signature
                }
            }
        }

        var duplicates: [Decision] = []
        var bandRows: [[String?]] = []
        var signatureRows: [[String?]] = []
        var batchIndex: [String: [Key]] = [:]
        var batchOrder: [Key: Int] = [:]
        for record in records {
            guard let signature = signatures[record.key], let keys = bandKeys[record.key] else { continue }
            var candidates = Set<Key>()
            for (band, bucket) in keys.enumerated() {
                let slot = "\(band):\(bucket)"
                candidates.formUnion(earlier[slot] ?? [])
                candidates.formUnion(batchIndex[slot] ?? [])
            }
            candidates.remove(record.key)
            // Earliest first: stored records by index order, then this batch's in arrival order.
            let ordered = candidates.sorted {
                let left = earlierOrder[$0].map { (0, $0) } ?? (1, batchOrder[$0] ?? .max)
                let right = earlierOrder[$1].map { (0, $0) } ?? (1, batchOrder[$1] ?? .max)
                return left < right
            }
            var match: (Key, Double)?
            for candidate in ordered {
                guard let other = known[candidate] ?? signatures[candidate] else { continue }
                let similarity = signature.estimatedJaccard(with: other)
                if similarity >= plan.threshold {
                    match = (candidate, similarity)
                    break
                }
            }
            if let (original, similarity) = match {
                duplicates.append(Decision(key: record.key, duplicateOf: original, similarity: similarity))
                continue
            }
            for (band, bucket) in keys.enumerated() {
                batchIndex["\(band):\(bucket)", default: []].append(record.key)
                bandRows.append([plan.scope, String(band), String(bucket), record.key.run, String(record.key.position), String(record.key.sample)])
            }
            batchOrder[record.key] = batchOrder.count
            signatureRows.append([record.key.run, String(record.key.position), String(record.key.sample), hexBytea(record.signature)])
        }

        for decision in duplicates {
            try connection.execute("""
                UPDATE records_in SET status = 'duplicate', reject_reason = 'near_duplicate',
                    duplicate_of_run_id = $4::uuid, duplicate_of_position = $5, duplicate_of_sample = $6,
                    reject_detail = $7
                WHERE run_id = $1::uuid AND position = $2 AND sample = $3
                """, [
                    decision.key.run, String(decision.key.position), String(decision.key.sample),
                    decision.duplicateOf.run, String(decision.duplicateOf.position), String(decision.duplicateOf.sample),
                    String(format: "estimated Jaccard %.3f with run %@ position %lld sample %d", decision.similarity,
                           decision.duplicateOf.run, decision.duplicateOf.position, decision.duplicateOf.sample),
                ])
        }
        return Resolution(duplicates: duplicates, bandRows: bandRows, signatureRows: signatureRows)
    }

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
