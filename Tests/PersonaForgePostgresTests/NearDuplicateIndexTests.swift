import Foundation
import PersonaForgeCore
import PersonaForgePostgres
import PersonaForgeStore
import Testing

/// The reducer's near-duplicate decisions against the real PostgreSQL band index,
/// through `RecordWriter.write(_:dedup:)` exactly as the reducer calls it.
@Suite("Near-duplicate index in PostgreSQL (RecordWriter)")
struct NearDuplicateIndexTests {
    static let hasher = MinHasher(parameters: .standard)

    /// ~150 words, so one changed word leaves an exact Jaccard ≈ 0.93 (5-word shingles).
    static func text(_ topic: String) -> String {
        (0..<150).map { "\(topic)\($0 % 37) word\($0)" }.joined(separator: " ")
    }

    static func nearCopy(of text: String) -> String {
        var words = text.split(separator: " ").map(String.init)
        words[words.count / 2] = "changed"
        return words.joined(separator: " ")
    }

    static func record(_ position: Int, _ text: String) -> GeneratedRecord {
        GeneratedRecord(
            samplePosition: position, conditionPosition: position, sampleIndex: 0, condition: [], promptHash: "test",
            text: text, steps: [], model: "test", sampling: [:], finishReason: "stop", promptTokens: 1,
            completionTokens: 1, status: .kept, reason: nil, detail: nil,
            signature: hasher.signature(of: text).bytes, latencyMilliseconds: 0)
    }

    static func batch(run: String, shard: Int, _ records: [GeneratedRecord]) -> ResultBatch {
        ResultBatch(
            shard: ShardDescriptor(runID: run, shard: shard, start: records.first?.samplePosition ?? 0, count: records.count),
            worker: "test", attempt: 1, records: records)
    }

    /// A migrated private schema with one run per name; calls `body` with a connection and the run ids.
    static func withRuns(_ count: Int, _ body: (TestSchema, PostgresConnection, [String]) async throws -> Void) async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            try await PersonaForgeSchema.migrate(connection, logger: TestDatabase.quietLogger)
            var runs: [String] = []
            for _ in 0..<count {
                let id = UUID().uuidString.lowercased()
                try await connection.execute("""
                    INSERT INTO runs (id, name, config, config_hash, condition_count, shard_size, shard_count, state)
                    VALUES ($1::uuid, 'dedup test', '{}', $1, 100, 10, 10, 'running')
                    """, [id])
                runs.append(id)
            }
            try await body(schema, connection, runs)
            await connection.close()
        }
    }

    static func plan(_ run: String) throws -> DedupPlan {
        try DedupPlan(settings: DedupSettings(threshold: 0.8, seed: 1), runID: run, runSeed: 1)
    }

    /// position → (status, duplicate_of_position)
    static func statuses(_ connection: PostgresConnection, run: String) async throws -> [Int: (String, Int?)] {
        var result: [Int: (String, Int?)] = [:]
        for row in try await connection.query(
            "SELECT position, status, duplicate_of_position FROM records WHERE run_id = $1::uuid", [run]) {
            result[row["position"].int ?? -1] = (row["status"].string ?? "", row["duplicate_of_position"].int)
        }
        return result
    }

    static func count(_ connection: PostgresConnection, _ sql: String, _ parameters: [String?] = []) async throws -> Int {
        try await connection.query(sql, parameters).first?["n"].int ?? -1
    }

    @Test func duplicatesWithinAndAcrossBatchesPointAtTheEarliestRecord() async throws {
        try await Self.withRuns(1) { _, connection, runs in
            let run = runs[0]
            let writer = RecordWriter(connection: connection)
            let base = Self.text("alpha"), other = Self.text("beta")
            _ = try await writer.write([Self.batch(run: run, shard: 0, [
                Self.record(0, base), Self.record(1, other), Self.record(2, Self.nearCopy(of: base)),
            ])], dedup: [run: try Self.plan(run)])
            _ = try await writer.write([Self.batch(run: run, shard: 1, [
                Self.record(3, other), Self.record(4, Self.text("gamma")), Self.record(5, Self.nearCopy(of: base)),
            ])], dedup: [run: try Self.plan(run)])
            let statuses = try await Self.statuses(connection, run: run)
            #expect(statuses[0]! == ("kept", nil))
            #expect(statuses[1]! == ("kept", nil))
            #expect(statuses[2]! == ("duplicate", 0))  // same batch
            #expect(statuses[3]! == ("duplicate", 1))  // exact copy from an earlier batch, from the index
            #expect(statuses[4]! == ("kept", nil))
            #expect(statuses[5]! == ("duplicate", 0))  // near 0 and identical to 2: the earliest wins
            // Every kept record the worker sent is indexed, duplicates too: one row per band each, and one signature.
            let bands = try Self.plan(run).lsh.bands
            #expect(try await Self.count(connection, "SELECT count(*) AS n FROM lsh_bands") == 6 * bands)
            #expect(try await Self.count(connection, "SELECT count(*) AS n FROM record_signatures") == 6)
            #expect(try await Self.count(connection, "SELECT records_duplicate AS n FROM runs WHERE id = $1::uuid", [run]) == 3)
        }
    }

    @Test func aRedeliveredShardChangesNothing() async throws {
        try await Self.withRuns(1) { _, connection, runs in
            let run = runs[0]
            let writer = RecordWriter(connection: connection)
            let base = Self.text("delta")
            let batch = Self.batch(run: run, shard: 0, [Self.record(0, base), Self.record(1, Self.text("epsilon"))])
            let first = try await writer.write([batch], dedup: [run: try Self.plan(run)])
            #expect(first.inserted == 2)
            var again = batch
            again.attempt = 2
            let second = try await writer.write([again], dedup: [run: try Self.plan(run)])
            #expect(second.inserted == 0)
            #expect(second.shards == 0)
            // Not decided again: neither record became a duplicate of itself, and the index did not grow.
            let statuses = try await Self.statuses(connection, run: run)
            #expect(statuses.values.allSatisfy { $0.0 == "kept" })
            #expect(try await Self.count(connection, "SELECT count(*) AS n FROM record_signatures") == 2)
            #expect(try await Self.count(connection, "SELECT records_kept AS n FROM runs WHERE id = $1::uuid", [run]) == 2)
        }
    }

    @Test func twoBatchesOfOneShardInOneWriteAreDecidedOnce() async throws {
        try await Self.withRuns(1) { _, connection, runs in
            let run = runs[0]
            // A shard redone after its lease expired: two result batches with the same keys.
            let batch = Self.batch(run: run, shard: 0, [Self.record(0, Self.text("kappa")), Self.record(1, Self.text("lambda"))])
            var redone = batch
            redone.attempt = 2
            let outcome = try await RecordWriter(connection: connection).write([batch, redone], dedup: [run: try Self.plan(run)])
            #expect(outcome.inserted == 2)
            #expect(try await Self.statuses(connection, run: run).values.allSatisfy { $0.0 == "kept" })
            #expect(try await Self.count(connection, "SELECT count(*) AS n FROM record_signatures") == 2)
        }
    }

    @Test func aNewWriterOnANewConnectionFindsEarlierRecords() async throws {
        try await Self.withRuns(1) { schema, connection, runs in
            let run = runs[0]
            let base = Self.text("zeta")
            _ = try await RecordWriter(connection: connection).write(
                [Self.batch(run: run, shard: 0, [Self.record(0, base)])], dedup: [run: try Self.plan(run)])
            // A restarted reducer: nothing in memory, only PostgreSQL.
            let restarted = try await schema.connect()
            _ = try await RecordWriter(connection: restarted).write(
                [Self.batch(run: run, shard: 1, [Self.record(1, Self.nearCopy(of: base))])], dedup: [run: try Self.plan(run)])
            await restarted.close()
            #expect(try await Self.statuses(connection, run: run)[1]! == ("duplicate", 0))
        }
    }

    @Test func concurrentWritersKeepExactlyOneOfTwoIdenticalTexts() async throws {
        try await Self.withRuns(1) { schema, connection, runs in
            let run = runs[0]
            let plan = try Self.plan(run)
            for round in 0..<5 {
                let text = Self.text("eta\(round)x")
                let a = try await schema.connect(), b = try await schema.connect()
                async let first = RecordWriter(connection: a).write(
                    [Self.batch(run: run, shard: 2 * round, [Self.record(2 * round, text)])], dedup: [run: plan])
                async let second = RecordWriter(connection: b).write(
                    [Self.batch(run: run, shard: 2 * round + 1, [Self.record(2 * round + 1, text)])], dedup: [run: plan])
                _ = try await (first, second)
                await a.close()
                await b.close()
                let statuses = try await Self.statuses(connection, run: run)
                // Whichever committed first: the earlier sample position is kept.
                #expect(statuses[2 * round]! == ("kept", nil), "round \(round)")
                #expect(statuses[2 * round + 1]! == ("duplicate", 2 * round), "round \(round)")
            }
        }
    }

    @Test func anEarlierRecordArrivingLaterMarksTheLaterOneAndMovesTheCounters() async throws {
        try await Self.withRuns(1) { _, connection, runs in
            let run = runs[0]
            let writer = RecordWriter(connection: connection)
            let base = Self.text("omega")
            var later = Self.record(40, Self.nearCopy(of: base))
            later.condition = [NamedAxisValue(axis: "persona", index: 4, value: AxisValue("p4"))]
            let first = try await writer.write([Self.batch(run: run, shard: 4, [later])], dedup: [run: try Self.plan(run)])
            #expect(first.insertedByStatus["kept"] == 1)
            #expect(try await Self.statuses(connection, run: run)[40]! == ("kept", nil))
            // Sample position 5 comes before 40 in the run's order: 40 becomes its duplicate.
            let second = try await writer.write([Self.batch(run: run, shard: 0, [Self.record(5, base)])], dedup: [run: try Self.plan(run)])
            #expect(second.duplicatesMarkedLater == 1)
            #expect(second.insertedByStatus["kept"] == 1)
            let statuses = try await Self.statuses(connection, run: run)
            #expect(statuses[5]! == ("kept", nil))
            #expect(statuses[40]! == ("duplicate", 5))
            #expect(try await Self.count(connection, "SELECT records_kept AS n FROM runs WHERE id = $1::uuid", [run]) == 1)
            #expect(try await Self.count(connection, "SELECT records_duplicate AS n FROM runs WHERE id = $1::uuid", [run]) == 1)
            let coverage = try await connection.query(
                "SELECT kept, duplicate FROM axis_coverage WHERE run_id = $1::uuid AND axis = 'persona' AND value_index = 4", [run])
            #expect(coverage.first?["kept"].int == 0)
            #expect(coverage.first?["duplicate"].int == 1)
            // Deciding the same batches again (a redelivery) changes nothing more.
            _ = try await writer.write([Self.batch(run: run, shard: 0, [Self.record(5, base)])], dedup: [run: try Self.plan(run)])
            _ = try await writer.write([Self.batch(run: run, shard: 4, [later])], dedup: [run: try Self.plan(run)])
            #expect(try await Self.count(connection, "SELECT records_duplicate AS n FROM runs WHERE id = $1::uuid", [run]) == 1)
            #expect(try await Self.count(connection, "SELECT records_kept AS n FROM runs WHERE id = $1::uuid", [run]) == 1)
        }
    }

    /// Three copies arriving latest first: the middle one's arrival marks the last, the
    /// earliest one's marks the middle (kept → duplicate) and moves the last one's
    /// pointer, which already named the middle, to itself. Both index stores.
    @Test(arguments: [false, true])
    func aDuplicatesPointerMovesToAnEarlierOriginalThatArrivesLater(redisIndex: Bool) async throws {
        try await Self.withRuns(1) { _, connection, runs in
            let run = runs[0]
            let writer = RecordWriter(connection: connection, bandIndex: redisIndex ? InMemorySharedBandIndex() : nil)
            let base = Self.text("sigma")
            for (shard, position) in [(4, 40), (2, 20), (0, 5)] {
                _ = try await writer.write([Self.batch(run: run, shard: shard, [Self.record(position, base)])], dedup: [run: try Self.plan(run)])
            }
            let statuses = try await Self.statuses(connection, run: run)
            #expect(statuses[5]! == ("kept", nil))
            #expect(statuses[20]! == ("duplicate", 5))
            #expect(statuses[40]! == ("duplicate", 5))
            #expect(try await Self.count(connection, "SELECT records_duplicate AS n FROM runs WHERE id = $1::uuid", [run]) == 2)
        }
    }

    @Test func runsInOneWriteKeepTheirOwnScopes() async throws {
        try await Self.withRuns(2) { _, connection, runs in
            let text = Self.text("theta")
            let writer = RecordWriter(connection: connection)
            _ = try await writer.write([
                Self.batch(run: runs[0], shard: 0, [Self.record(0, text), Self.record(1, Self.text("iota"))]),
                Self.batch(run: runs[1], shard: 0, [Self.record(0, text), Self.record(1, text)]),
            ], dedup: [runs[0]: try Self.plan(runs[0]), runs[1]: try Self.plan(runs[1])])
            // Run scope: the first run's copy does not make the second run's a duplicate, but
            // the second run's own repeat is one.
            #expect(try await Self.statuses(connection, run: runs[0]).values.allSatisfy { $0.0 == "kept" })
            let second = try await Self.statuses(connection, run: runs[1])
            #expect(second[0]! == ("kept", nil))
            #expect(second[1]! == ("duplicate", 0))
        }
    }
}

/// Migration 6 converts a version-1 band index in place, and migration 7 gives its
/// signatures their sample order: what was indexed before the upgrade is still found.
@Suite("Band index upgrade (migration 6)")
struct BandIndexUpgradeTests {
    @Test func anIndexWrittenInTheOldLayoutIsConvertedAndStillDecides() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            let before = PersonaForgeSchema.migrations.filter { $0.version < 6 }
            _ = try await Migrator(migrations: before, logger: TestDatabase.quietLogger).migrate(connection)
            let run = UUID().uuidString.lowercased()
            try await connection.execute("""
                INSERT INTO runs (id, name, config, config_hash, condition_count, shard_size, shard_count, state)
                VALUES ($1::uuid, 'upgrade', '{}', $1, 100, 10, 10, 'running')
                """, [run])
            let plan = try NearDuplicateIndexTests.plan(run)
            let text = NearDuplicateIndexTests.text("alpha")
            // Two stored copies of one text, in the old layout; position 7 was indexed first.
            for (position, seenAt) in [(3, "2026-01-02"), (7, "2026-01-01")] {
                let signature = NearDuplicateIndexTests.hasher.signature(of: text)
                try await connection.execute("""
                    INSERT INTO records (run_id, position, sample, condition, status, text) VALUES ($1::uuid, $2, 0, '[]', 'kept', 'x')
                    """, [run, String(position)])
                try await connection.execute(
                    "INSERT INTO record_signatures (run_id, position, sample, signature) VALUES ($1::uuid, $2, 0, decode($3, 'hex'))",
                    [run, String(position), signature.bytes.map { String(format: "%02x", $0) }.joined()])
                for (band, bucket) in plan.lsh.bandKeys(of: signature).enumerated() {
                    try await connection.execute("""
                        INSERT INTO lsh_bands (scope, band, bucket, run_id, position, sample, created_at)
                        VALUES ($1, $2, $3, $4::uuid, $5, 0, $6::timestamptz)
                        """, [plan.scope, String(band), String(Int64(bitPattern: bucket)), run, String(position), seenAt])
                }
            }
            // A band row whose record is gone (its run deleted) is dropped, not an error.
            try await connection.execute("""
                INSERT INTO lsh_bands (scope, band, bucket, run_id, position, sample) VALUES ($1, 0, 1, gen_random_uuid(), 0, 0)
                """, [plan.scope])

            let applied = try await PersonaForgeSchema.migrate(connection, logger: TestDatabase.quietLogger)
            #expect(applied.map(\.version) == Array(6...PersonaForgeSchema.migrations.count), "6 and every later one")
            #expect(try await NearDuplicateIndexTests.count(connection, "SELECT count(*) AS n FROM lsh_bands") == 2 * plan.lsh.bands)
            #expect(try await NearDuplicateIndexTests.count(connection, "SELECT count(*) AS n FROM dedup_scopes") == 1)
            let ids = try await connection.query("SELECT position, id FROM record_signatures ORDER BY id")
            #expect(ids.map { $0["position"].int } == [7, 3], "ids follow the first-seen order of the old rows")

            // A third copy, written by the new code, is a duplicate of the earliest in sample
            // order (position 3; migration 7 gave the old rows their sample positions), not of
            // the first seen. The two old records keep the decisions they had.
            let writer = RecordWriter(connection: connection)
            _ = try await writer.write([NearDuplicateIndexTests.batch(run: run, shard: 1, [NearDuplicateIndexTests.record(12, text)])], dedup: [run: plan])
            let statuses = try await NearDuplicateIndexTests.statuses(connection, run: run)
            #expect(statuses[12]! == ("duplicate", 3))
            #expect(statuses[7]! == ("kept", nil))
            // New ids continue after the converted ones.
            _ = try await writer.write([NearDuplicateIndexTests.batch(run: run, shard: 2, [NearDuplicateIndexTests.record(22, NearDuplicateIndexTests.text("beta"))])], dedup: [run: plan])
            // New ids continue after the converted ones (12 is indexed too, as a duplicate).
            #expect(try await NearDuplicateIndexTests.count(connection, "SELECT id AS n FROM record_signatures WHERE position = 22") == 4)
            // Migration 11 gave every band row its record's place.
            #expect(try await NearDuplicateIndexTests.count(connection, """
                SELECT count(*) AS n FROM lsh_bands b JOIN record_signatures s ON s.id = b.signature_id
                WHERE b.run_order = s.run_order AND b.sample_position = s.sample_position
                """) == 4 * plan.lsh.bands)
            await connection.close()
        }
    }

    /// Migration 11: runs submitted in the same microsecond are moved apart in the order
    /// they had (by id), and their signatures and band rows follow, so that (run order,
    /// sample position) is the whole order.
    @Test func runsTiedInTheOrderAreMovedApartAndTheirBandRowsPlaced() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            let before = PersonaForgeSchema.migrations.filter { $0.version < 11 }
            _ = try await Migrator(migrations: before, logger: TestDatabase.quietLogger).migrate(connection)
            // Two runs in one global scope, submitted in the same microsecond; run `b` sorts after `a`.
            let a = "00000000-0000-4000-8000-00000000000a", b = "00000000-0000-4000-8000-00000000000b"
            for run in [b, a] {
                try await connection.execute("""
                    INSERT INTO runs (id, name, config, config_hash, condition_count, shard_size, shard_count, state, created_at)
                    VALUES ($1::uuid, 'tied', '{}', $1, 100, 10, 10, 'running', '2026-12-01 10:00:00.000001+00')
                    """, [run])
            }
            let scope = try await connection.query("INSERT INTO dedup_scopes (scope) VALUES ('global:test') RETURNING id").first?["id"].int ?? -1
            let text = NearDuplicateIndexTests.text("gamma")
            let signature = NearDuplicateIndexTests.hasher.signature(of: text)
            let lsh = try LSHParameters(threshold: 0.8, permutationCount: 128)
            // One signature at sample position 5 of `b` and 9 of `a`, stored by the version-10 code.
            for (id, run, position) in [(1, b, 5), (2, a, 9)] {
                try await connection.execute("""
                    INSERT INTO records (run_id, position, sample, sample_position, condition, status, text) VALUES ($1::uuid, $2, 0, $2, '[]', 'kept', 'x')
                    """, [run, String(position)])
                try await connection.execute("""
                    INSERT INTO record_signatures (id, run_id, position, sample, signature, run_order, sample_position)
                    VALUES ($1, $2::uuid, $3, 0, decode($4, 'hex'), 1796119200000001, $3)
                    """, [String(id), run, String(position), signature.bytes.map { String(format: "%02x", $0) }.joined()])
                for (band, bucket) in lsh.bandKeys(of: signature).enumerated() {
                    try await connection.execute(
                        "INSERT INTO lsh_bands (scope_id, band, bucket, signature_id) VALUES ($1, $2, $3, $4)",
                        [String(scope), String(band), String(Int64(bitPattern: bucket)), String(id)])
                }
            }
            #expect(try await PersonaForgeSchema.migrate(connection, logger: TestDatabase.quietLogger).map(\.version) == Array(11...PersonaForgeSchema.migrations.count))

            let orders = try await connection.query("""
                SELECT id::text AS id, (extract(epoch FROM created_at) * 1000000)::bigint AS run_order FROM runs ORDER BY id
                """).map { ($0["id"].string ?? "", $0["run_order"].int64 ?? 0) }
            #expect(orders.map(\.0) == [a, b])
            #expect(orders.map(\.1) == [1796119200000001, 1796119200000002], "a keeps its time, b moves one microsecond later")
            #expect(try await NearDuplicateIndexTests.count(connection, """
                SELECT count(*) AS n FROM record_signatures s JOIN lsh_bands l ON l.signature_id = s.id
                WHERE s.run_order = (extract(epoch FROM (SELECT created_at FROM runs WHERE id = s.run_id)) * 1000000)::bigint
                  AND l.run_order = s.run_order AND l.sample_position = s.sample_position
                """) == 2 * lsh.bands)
            // A run inserted now gets a created_at of its own, even in the same transaction as another.
            try await connection.execute("BEGIN")
            for _ in 0..<2 {
                try await connection.execute("""
                    INSERT INTO runs (id, name, config, config_hash, condition_count, shard_size, shard_count, state)
                    VALUES (gen_random_uuid(), 'new', '{}', 'h', 100, 10, 10, 'running')
                    """)
            }
            try await connection.execute("COMMIT")
            #expect(try await NearDuplicateIndexTests.count(connection, "SELECT count(DISTINCT created_at) AS n FROM runs") == 4)
            await connection.close()
        }
    }
}
