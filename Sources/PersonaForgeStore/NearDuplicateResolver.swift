import Foundation
import PersonaForgeCore
import PersonaForgePostgres

/// Decides, inside the reducer's write transaction, which new kept records are near
/// duplicates of an earlier record in their dedup scope, using the LSH band index in
/// PostgreSQL (`lsh_bands`) and the stored signatures (`record_signatures`).
///
/// A band row is (scope id, band, bucket, signature id): the scope's number in
/// `dedup_scopes` and the record's `record_signatures.id`, which is allocated from a
/// sequence under the scope's lock and so also orders records by when they were
/// first seen (migration 6).
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

    /// Earlier index rows of the keys in `lsh_probe` for scope id `$1`: one branch per
    /// partition of `lsh_bands`, each probing only the keys that hash to it; earliest
    /// first (by signature id).
    static let probeQuery: String = {
        let partitions = PersonaForgeSchema.lshBandPartitions
        let branches = (0..<partitions).map { partition in
            """
            SELECT k.band, k.bucket, l.signature_id
            FROM lsh_probe AS k
            CROSS JOIN LATERAL (
                SELECT signature_id FROM lsh_bands_p\(partition)
                WHERE scope_id = $1 AND band = k.band AND bucket = k.bucket OFFSET 0
            ) AS l
            WHERE satisfies_hash_partition('lsh_bands'::regclass, \(partitions), \(partition), k.bucket)
            """
        }
        return "SELECT band, bucket, signature_id FROM (\n"
            + branches.joined(separator: "\nUNION ALL\n")
            + "\n) AS found ORDER BY signature_id"
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
        let scopeID = try Self.scopeID(plan.scope, connection: connection)

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
        var earlierIDs: [String: [Int64]] = [:]  // "band:bucket" → signature ids, earliest first
        try connection.execute("""
            CREATE TEMP TABLE IF NOT EXISTS lsh_probe (band smallint NOT NULL, bucket bigint NOT NULL) ON COMMIT DELETE ROWS
            """)
        try connection.execute("DELETE FROM lsh_probe")  // another run's keys, earlier in this transaction
        try connection.copy(into: "lsh_probe", columns: ["band", "bucket"], rows: zip(lookupBands, lookupBuckets).map { [$0, $1] })
        var wanted = Set<Int64>()
        for row in try connection.query(Self.probeQuery, [String(scopeID)]) {
            guard let id = row["signature_id"].int64 else { continue }
            earlierIDs["\(row["band"].string ?? ""):\(row["bucket"].string ?? "")", default: []].append(id)
            wanted.insert(id)
        }
        // The candidates' keys and signatures, by signature id (a band row whose record was
        // deleted with its run finds none and is ignored).
        var earlier: [String: [Key]] = [:]  // "band:bucket" → keys
        var earlierOrder: [Key: Int64] = [:]  // key → signature id (smaller: seen earlier)
        var known: [Key: MinHashSignature] = [:]
        if !wanted.isEmpty {
            var keyOfID: [Int64: Key] = [:]
            let found = try connection.query("""
                SELECT id, run_id::text AS run_id, position, sample, signature FROM record_signatures WHERE id = ANY($1::bigint[])
                """, ["{" + wanted.map(String.init).joined(separator: ",") + "}"])
            for row in found {
                guard let id = row["id"].int64, let bytes = row["signature"].bytes,
                      let signature = try? MinHashSignature(bytes: bytes, expectedCount: plan.permutationCount) else { continue }
                let key = Key(run: row["run_id"].string ?? "", position: row["position"].int64 ?? 0, sample: row["sample"].int ?? 0)
                keyOfID[id] = key
                earlierOrder[key] = id
                known[key] = signature
            }
            for (slot, ids) in earlierIDs {
                earlier[slot] = ids.compactMap { keyOfID[$0] }
            }
        }

        var duplicates: [Decision] = []
        var unique: [(key: Key, bands: [Int64], signature: [UInt8])] = []
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
                let left = earlierOrder[$0].map { (0, $0) } ?? (1, Int64(batchOrder[$0] ?? .max))
                let right = earlierOrder[$1].map { (0, $0) } ?? (1, Int64(batchOrder[$1] ?? .max))
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
            }
            batchOrder[record.key] = batchOrder.count
            unique.append((record.key, keys, record.signature))
        }

        // Signature ids for the unique records, in arrival order (taken under the scope's
        // lock, so a scope's ids grow in the order its records were decided).
        var bandRows: [[String?]] = []
        var signatureRows: [[String?]] = []
        if !unique.isEmpty {
            let ids = try connection.query(
                "SELECT nextval('record_signature_ids') AS id FROM generate_series(1, $1)", [String(unique.count)]
            ).compactMap { $0["id"].int64 }.sorted()
            guard ids.count == unique.count else {
                throw PostgresError(code: .statementFailed, message: "nextval('record_signature_ids') returned \(ids.count) ids for \(unique.count) records")
            }
            let scope = String(scopeID)
            for (id, record) in zip(ids, unique) {
                let signatureID = String(id)
                for (band, bucket) in record.bands.enumerated() {
                    bandRows.append([scope, String(band), String(bucket), signatureID])
                }
                signatureRows.append([signatureID, record.key.run, String(record.key.position), String(record.key.sample), hexBytea(record.signature)])
            }
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

    /// The id of `scope` in `dedup_scopes`, created on first use (callers hold the
    /// scope's advisory lock, so two never create it at once).
    static func scopeID(_ scope: String, connection: isolated PostgresConnection) throws -> Int {
        let rows = try connection.query("""
            WITH created AS (
                INSERT INTO dedup_scopes (scope) VALUES ($1) ON CONFLICT (scope) DO NOTHING RETURNING id
            )
            SELECT id FROM created UNION ALL SELECT id FROM dedup_scopes WHERE scope = $1
            """, [scope])
        guard let id = rows.first?["id"].int else {
            throw PostgresError(code: .statementFailed, message: "no dedup_scopes row for scope \(scope)")
        }
        return id
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
