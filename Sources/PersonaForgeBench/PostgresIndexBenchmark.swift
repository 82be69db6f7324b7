import Foundation
import Logging
import PersonaForgeCore
import PersonaForgePostgres
import PersonaForgeStore

/// Capacity and decision throughput of the reducer's PostgreSQL LSH band index
/// (`lsh_bands` partitions + `record_signatures`), measured through the real
/// write path: `RecordWriter.write(_:dedup:)`, which runs `NearDuplicateResolver`
/// in the same transaction the reducer uses.
///
/// 1. Creates a benchmark run (dedup scope `run:<id>`, so its index starts empty).
/// 2. Writes `records` kept records with random signatures (unrelated texts: every
///    band key distinct) in batches of `batch` records, timing each tenth of the fill.
/// 3. Measures on the full index: a probe of unique records, a probe where half the
///    records are near-copies of random earlier ones (candidates fetched and confirmed
///    from `record_signatures`), and the same write without dedup as a baseline.
/// 4. Reports `pg_total_relation_size` (heap + indexes + TOAST) of both tables per record.
struct PostgresIndexBenchmark {
    var databaseURL: String
    var records: Int
    var batch: Int
    var probe: Int
    var threshold: Double
    var permutations: Int
    var cleanup: Bool
    /// Writers for the concurrent figure (1: not measured).
    var writers: Int = 2

    struct Result {
        var values: [String: Double] = [:]
        var lines: [String] = []
    }

    func run() async throws -> Result {
        var logger = Logger(label: "personaforge-bench")
        logger.logLevel = .warning
        let connection = try await PostgresConnection.connect(to: databaseURL, logger: logger)
        try await PersonaForgeSchema.migrate(connection, logger: logger)
        let writer = RecordWriter(connection: connection)
        var result = Result()
        let runID = UUID().uuidString.lowercased()
        let baselineRunID = UUID().uuidString.lowercased()
        for id in [runID, baselineRunID] {
            try await connection.execute("""
                INSERT INTO runs (id, name, config, config_hash, condition_count, shard_size, shard_count, state)
                VALUES ($1::uuid, 'personaforge-bench postgres index', '{}', $1, $2, $3, $4, 'running')
                """, [id, String(records + 2 * probe), String(batch), String((records + 2 * probe) / batch + 3)])
        }
        let settings = DedupSettings(threshold: threshold, permutations: permutations, seed: 1)
        let plan = try DedupPlan(settings: settings, runID: runID, runSeed: 1)
        var generator = SplitMix64(state: 0x5EED)
        var nextPosition = 0
        var shard = 0
        var signatures: [[UInt8]] = []  // a uniform sample (reservoir) of stored ones, to make near-copies from
        signatures.reserveCapacity(4096)
        var seen = 0

        func makeBatch(run: String, count: Int, nearCopies: Int) -> ResultBatch {
            var records: [GeneratedRecord] = []
            records.reserveCapacity(count)
            for i in 0..<count {
                var values = (0..<permutations).map { _ in UInt32(truncatingIfNeeded: generator.next()) }
                if i < nearCopies, !signatures.isEmpty {
                    // A near-copy: an earlier record's signature with ~3 % of its values changed.
                    let original = try! MinHashSignature(bytes: signatures[Int(generator.next() % UInt64(signatures.count))])
                    values = original.values
                    for _ in 0..<max(1, permutations * 3 / 100) {
                        values[Int(generator.next() % UInt64(permutations))] = UInt32(truncatingIfNeeded: generator.next())
                    }
                }
                let bytes = MinHashSignature(values: values).bytes
                if run == runID { seen += 1 }  // only records of the deduplicated run can be copied
                if run != runID {
                } else if signatures.count < 4096 {
                    signatures.append(bytes)
                } else if generator.next() % UInt64(seen) < 4096 {
                    signatures[Int(generator.next() % 4096)] = bytes
                }
                records.append(GeneratedRecord(
                    samplePosition: nextPosition, conditionPosition: nextPosition, sampleIndex: 0, condition: [],
                    promptHash: "bench", text: "benchmark record \(nextPosition)", steps: [], model: "bench",
                    sampling: [:], finishReason: "stop", promptTokens: 0, completionTokens: 0, status: .kept,
                    reason: nil, detail: nil, signature: bytes, latencyMilliseconds: 0))
                nextPosition += 1
            }
            defer { shard += 1 }
            return ResultBatch(
                shard: ShardDescriptor(runID: run, shard: shard, start: nextPosition - count, count: count),
                worker: "bench", attempt: 1, records: records)
        }

        /// Writes `total` records in batches; returns records per second.
        func timedWrite(run: String, total: Int, nearCopyFraction: Double, dedup: Bool) async throws -> (rate: Double, duplicates: Int) {
            var written = 0
            var elapsed = 0.0
            let before = try await duplicateCount(connection, run: run)
            while written < total {
                let count = min(batch, total - written)
                let batch = makeBatch(run: run, count: count, nearCopies: Int(Double(count) * nearCopyFraction))
                let start = Stopwatch.now()
                _ = try await writer.write([batch], dedup: dedup ? [run: plan] : [:])
                elapsed += Stopwatch.now() - start
                written += count
            }
            let after = try await duplicateCount(connection, run: run)
            return (Double(total) / elapsed, after - before)
        }

        // Sizes are measured as growth, so the tables must start empty: a scratch database.
        let existing = try await connection.query("""
            SELECT (SELECT count(*) FROM (SELECT 1 FROM lsh_bands LIMIT 1) a) + (SELECT count(*) FROM (SELECT 1 FROM records LIMIT 1) b) AS n
            """).first?["n"].int ?? 0
        guard existing == 0 else {
            throw BenchmarkError(message: "the database already holds records or LSH bands: run the PostgreSQL benchmark on "
                + "a scratch database (createdb personaforge_bench) so that table growth is the index's size")
        }
        let sizesBefore = try await relationSizes(connection)
        result.lines.append("PostgreSQL \(try await connection.query("SHOW server_version").first?[0].string ?? "?"); "
            + "threshold \(threshold): \(plan.lsh.bands) bands × \(plan.lsh.rows) rows, \(permutations) permutations; "
            + "batches of \(batch) records through RecordWriter.write (one transaction each)")

        // Empty index: baseline without dedup, and the first records into the empty index.
        let emptyBaseline = try await timedWrite(run: baselineRunID, total: probe, nearCopyFraction: 0, dedup: false)
        result.values["empty_no_dedup_records_per_s"] = emptyBaseline.rate
        let empty = try await timedWrite(run: runID, total: probe, nearCopyFraction: 0, dedup: true)
        result.values["empty_unique_records_per_s"] = empty.rate
        result.lines.append("  empty index, first \(probe.formatted()) unique records: \(Int(empty.rate)) records/s")
        let steps = 10
        var filled = probe
        for step in 1...steps {
            let target = records * step / steps
            guard target > filled else { continue }
            let chunk = try await timedWrite(run: runID, total: target - filled, nearCopyFraction: 0, dedup: true)
            filled = target
            result.values["fill_\(step)_records_per_s"] = chunk.rate
            result.lines.append("  fill to \(filled.formatted()) records: \(Int(chunk.rate)) records/s (\(chunk.duplicates) duplicates)")
        }

        // Full index.
        let unique = try await timedWrite(run: runID, total: probe, nearCopyFraction: 0, dedup: true)
        let mixed = try await timedWrite(run: runID, total: probe, nearCopyFraction: 0.5, dedup: true)
        let fullBaseline = try await timedWrite(run: baselineRunID, total: probe, nearCopyFraction: 0, dedup: false)
        result.values["full_unique_records_per_s"] = unique.rate
        result.values["full_half_duplicates_records_per_s"] = mixed.rate
        result.values["full_half_duplicates_found"] = Double(mixed.duplicates)
        result.values["full_no_dedup_records_per_s"] = fullBaseline.rate
        result.lines.append("  at \(filled.formatted()) records, \(probe.formatted()) more unique: \(Int(unique.rate)) records/s")
        result.lines.append("  at \(filled.formatted()) records, \(probe.formatted()) more, half near-copies: "
            + "\(Int(mixed.rate)) records/s (\(mixed.duplicates) of \(probe / 2) near-copies found)")
        result.lines.append("  without dedup (baseline run): empty \(Int(emptyBaseline.rate)) records/s, "
            + "after the fill \(Int(fullBaseline.rate)) records/s")

        // Several writers on one scope at once (each its own connection, as reducers are),
        // against one writer on the same kind of batches, side by side: rounds alternate
        // (1 writer, N writers, 1, N, ...) so both see the same index size and machine load.
        if writers > 1 {
            var connections: [PostgresConnection] = []
            for _ in 0..<writers { connections.append(try await PostgresConnection.connect(to: databaseURL, logger: logger)) }
            func round(_ count: Int) async throws -> Double {
                var batches: [ResultBatch] = []
                var made = 0
                while made < probe {
                    let size = min(batch, probe - made)
                    batches.append(makeBatch(run: runID, count: size, nearCopies: size / 2))
                    made += size
                }
                let all = batches, plan = plan, runID = runID
                let used = Array(connections.prefix(count))
                let start = Stopwatch.now()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (w, connection) in used.enumerated() {
                        group.addTask {
                            let writer = RecordWriter(connection: connection)
                            for index in stride(from: w, to: all.count, by: used.count) {
                                _ = try await writer.write([all[index]], dedup: [runID: plan])
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                return Double(probe) / (Stopwatch.now() - start)
            }
            var one: [Double] = [], many: [Double] = []
            for _ in 0..<3 {
                one.append(try await round(1))
                many.append(try await round(writers))
            }
            for connection in connections { await connection.close() }
            let median = { (values: [Double]) in values.sorted()[values.count / 2] }
            let ratio = median(many) / median(one)
            result.values["concurrent_writers"] = Double(writers)
            result.values["concurrent_one_writer_records_per_s"] = median(one)
            result.values["concurrent_half_duplicates_records_per_s"] = median(many)
            result.values["concurrent_vs_one_writer"] = ratio
            result.lines.append("  half near-copies, \(probe.formatted()) records a round, 3 alternating rounds (median): "
                + "1 writer \(Int(median(one))) records/s, \(writers) writers \(Int(median(many))) records/s = \(String(format: "%.2f", ratio))×"
                + " (rounds: \(one.map { String(Int($0)) }.joined(separator: ", ")) vs \(many.map { String(Int($0)) }.joined(separator: ", ")))")
        }

        let indexed = Double(try await connection.query(
            "SELECT count(*) AS n FROM record_signatures WHERE run_id = $1::uuid", [runID]).first?["n"].int ?? 0)
        let sizesAfter = try await relationSizes(connection)
        result.values["indexed_records"] = indexed
        for (name, after) in sizesAfter.sorted(by: { $0.key < $1.key }) where !name.hasPrefix("records_") {
            let perRecord = Double(after - (sizesBefore[name] ?? 0)) / indexed
            result.values["\(name)_bytes_per_record"] = perRecord
        }
        let bands = result.values["lsh_bands_total_bytes_per_record"] ?? 0
        let signaturesTotal = result.values["record_signatures_total_bytes_per_record"] ?? 0
        let total = bands + signaturesTotal
        result.values["index_bytes_per_record"] = total
        result.values["index_records_per_gib"] = Double(1 << 30) / total
        result.lines.append("  index size growth over \(Int(indexed).formatted()) indexed records (pg_total_relation_size):")
        for table in ["lsh_bands", "record_signatures"] {
            let heap = result.values["\(table)_heap_bytes_per_record"] ?? 0
            let index = result.values["\(table)_indexes_bytes_per_record"] ?? 0
            let all = result.values["\(table)_total_bytes_per_record"] ?? 0
            result.lines.append("    \(table): \(Int(all)) B/record (heap \(Int(heap)), indexes \(Int(index)))")
        }
        result.lines.append("    band index total: \(Int(total)) B/record → \(Int(Double(1 << 30) / total).formatted()) records per GiB")
        if let recordsTotal = sizesAfter["records_total"] {
            let perRecord = Double(recordsTotal - (sizesBefore["records_total"] ?? 0)) / Double(nextPosition)
            result.values["records_total_bytes_per_record"] = perRecord
            result.lines.append("    (the records table itself, with this benchmark's ~25-byte texts: \(Int(perRecord)) B/record; not part of the index)")
        }

        if cleanup {
            // The database held none of these rows before (checked above; diversity_pending references records).
            try await connection.execute("TRUNCATE lsh_bands, record_signatures, diversity_pending, records, run_shards, axis_coverage")
            try await connection.execute("DELETE FROM runs WHERE id = ANY($1::uuid[])", ["{\(runID),\(baselineRunID)}"])
        }
        await connection.close()
        return result
    }

    func duplicateCount(_ connection: PostgresConnection, run: String) async throws -> Int {
        try await connection.query(
            "SELECT records_duplicate AS n FROM runs WHERE id = $1::uuid", [run]).first?["n"].int ?? 0
    }

    /// Heap, index and total bytes of the index tables (all partitions of `lsh_bands`) and of `records`.
    func relationSizes(_ connection: PostgresConnection) async throws -> [String: Int] {
        let rows = try await connection.query("""
            SELECT 'lsh_bands' AS name, sum(pg_table_size(relid))::bigint AS heap,
                   sum(pg_indexes_size(relid))::bigint AS indexes, sum(pg_total_relation_size(relid))::bigint AS total
            FROM pg_partition_tree('lsh_bands')
            UNION ALL
            SELECT t, pg_table_size(t::regclass), pg_indexes_size(t::regclass), pg_total_relation_size(t::regclass)
            FROM unnest(ARRAY['record_signatures', 'records']) AS t
            """)
        var sizes: [String: Int] = [:]
        for row in rows {
            let name = row["name"].string ?? ""
            sizes["\(name)_heap"] = row["heap"].int ?? 0
            sizes["\(name)_indexes"] = row["indexes"].int ?? 0
            sizes["\(name)_total"] = row["total"].int ?? 0
        }
        return sizes
    }
}

/// A benchmark that cannot run as asked.
struct BenchmarkError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
