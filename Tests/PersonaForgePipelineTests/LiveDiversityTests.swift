import Foundation
import Logging
import PersonaForgeCore
import PersonaForgePostgres
import PersonaForgeReducer
import PersonaForgeStore
import Testing

/// The reducer's live diversity against a real PostgreSQL (a private schema per test):
/// RecordWriter + LiveDiversityTracker exactly as `Reducer.step` wires them.
@Suite struct LiveDiversityTests {
    static let url = ProcessInfo.processInfo.environment["PERSONAFORGE_DATABASE_URL"]
        ?? "postgresql://personaforge:personaforge@127.0.0.1:15432/personaforge"
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// A schema with PersonaForge's tables and one run; `body` gets a connection factory.
    static func withRun(_ body: (String, @Sendable () async throws -> PostgresConnection) async throws -> Void) async throws {
        let schema = "test_live_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let admin = try await PostgresConnection.connect(to: url, logger: logger)
        try await admin.execute("CREATE SCHEMA \(schema)")
        let schemaURL = url + (url.contains("?") ? "&" : "?") + "options=-csearch_path%3D" + schema
        let connect: @Sendable () async throws -> PostgresConnection = { try await PostgresConnection.connect(to: schemaURL, logger: logger) }
        do {
            let connection = try await connect()
            try await PersonaForgeSchema.migrate(connection, logger: logger)
            let runID = UUID().uuidString.lowercased()
            try await RunRepository(connection: connection).insert(RunRepository.NewRun(
                id: runID, namespace: "pf", name: "live", configJSON: "{}", configHash: runID, configYAML: "", configFile: "",
                baseDirectory: "", bundle: [:], seed: 0, conditionCount: 1000, samplesPerCondition: 1, sampleCount: 1000,
                shardSize: 10, shardCount: 100, model: "m"
            ))
            await connection.close()
            try await body(runID, connect)
            try await admin.execute("DROP SCHEMA \(schema) CASCADE")
            await admin.close()
        } catch {
            _ = try? await admin.execute("DROP SCHEMA \(schema) CASCADE")
            await admin.close()
            throw error
        }
    }

    static let words = ["the", "persona", "asks", "about", "rivers", "and", "mountains", "while", "a", "teacher", "explains",
                        "fractions", "to", "curious", "students", "who", "love", "music", "of", "old", "ships", "sailing", "north"]

    /// Shard `shard` of `run`: `count` records at positions shard·10 …, every fourth filtered.
    static func batch(_ run: String, shard: Int, count: Int = 8) -> ResultBatch {
        var records: [GeneratedRecord] = []
        for offset in 0..<count {
            let position = shard * 10 + offset
            var generator = UInt64(position + 1) &* 0x9E37_79B9_7F4A_7C15
            let length = 6 + position % 9
            let text = (0..<length).map { _ in
                generator = generator &* 6364136223846793005 &+ 1442695040888963407
                return words[Int(generator >> 33) % words.count]
            }.joined(separator: " ") + (position % 5 == 0 ? "\nWhy?" : ".")
            records.append(GeneratedRecord(
                samplePosition: position, conditionPosition: position, sampleIndex: 0,
                condition: [NamedAxisValue(axis: "persona", index: position, value: AxisValue("persona \(position)"))],
                promptHash: "h", text: text, steps: [], model: "m", sampling: [:], finishReason: "stop",
                promptTokens: 5, completionTokens: 7, status: offset % 4 == 3 ? .filtered : .kept,
                reason: offset % 4 == 3 ? "length" : nil, detail: nil, latencyMilliseconds: 1
            ))
        }
        return ResultBatch(shard: ShardDescriptor(runID: run, shard: shard, start: shard * 10, count: count), worker: "w", attempt: 1, records: records)
    }

    /// What `personaforge evaluate` computes: every kept record in (position, sample) order.
    static func exact(_ run: String, _ connection: PostgresConnection) async throws -> DiversityMetrics {
        var accumulator = DiversityAccumulator(configuration: DiversityConfiguration())
        try await RunRepository(connection: connection).forEachPage(of: run, status: "kept", columns: "text") { rows in
            for row in rows { accumulator.add(row["text"].string ?? "") }
        }
        return accumulator.snapshot()
    }

    static func merged(_ run: String, _ connection: PostgresConnection) async throws -> DiversityStateStore.Merged {
        try await connection.transaction { connection in
            try DiversityStateStore.merged(run: run, configuration: LiveDiversitySettings.liveConfiguration, connection: connection)
        }
    }

    /// Order-independent metrics are equal (up to float rounding); metrics whose n-grams
    /// span record boundaries are close.
    static func expectAgreement(_ live: DiversityMetrics, _ exact: DiversityMetrics, sourceLocation: SourceLocation = #_sourceLocation) {
        for name in ["records", "tokens", "distinct_1", "entropy_1", "self_repetition_score", "homogenization_rougel",
                     "homogenization_sample_size", "words_mean", "words_stddev", "words_min", "words_max", "words_p50", "words_p90",
                     "chars_mean", "chars_stddev", "chars_p99", "exact_ngrams", "exact_self_repetition", "exact_homogenization"] {
            let (a, b) = (live[name] ?? .nan, exact[name] ?? .nan)
            #expect(abs(a - b) <= 1e-9 * max(1, abs(b)), "\(name): live \(a), exact \(b)", sourceLocation: sourceLocation)
        }
        for name in ["distinct_2", "distinct_3", "distinct_4", "entropy_2", "entropy_4"] {
            let (a, b) = (live[name] ?? .nan, exact[name] ?? .nan)
            #expect(abs(a - b) <= 0.05 * abs(b), "\(name): live \(a), exact \(b)", sourceLocation: sourceLocation)
        }
    }

    static func count(_ sql: String, _ run: String, _ connection: PostgresConnection) async throws -> Int {
        try await connection.query(sql, [run]).first?["n"].int ?? -1
    }

    /// Writes like `Reducer.step`: the hook in the transaction, then commit or roll back.
    @discardableResult
    static func write(_ batches: [ResultBatch], _ writer: RecordWriter, _ tracker: LiveDiversityTracker) async throws -> RecordWriter.Outcome {
        do {
            let outcome = try await writer.write(batches, hook: tracker.transactionHook())
            tracker.committed()
            return outcome
        } catch {
            tracker.rolledBack()
            throw error
        }
    }

    @Test(arguments: [Duration.zero, .seconds(3600)])
    func redeliveredBatchesAreCountedOnce(persistInterval: Duration) async throws {
        try await Self.withRun { run, connect in
            let connection = try await connect()
            let writer = RecordWriter(connection: connection)
            let tracker = LiveDiversityTracker(reducer: "r1", settings: LiveDiversitySettings(persistInterval: persistInterval), logger: Self.logger)
            let first = try await Self.write([Self.batch(run, shard: 0), Self.batch(run, shard: 1)], writer, tracker)
            #expect(first.inserted == 16)
            #expect(first.kept.count == 12)
            // The same batches again (a reducer died after commit, before XACK), then with a new one.
            let again = try await Self.write([Self.batch(run, shard: 1), Self.batch(run, shard: 0)], writer, tracker)
            #expect(again.inserted == 0)
            #expect(again.kept.isEmpty)
            let mixed = try await Self.write([Self.batch(run, shard: 0), Self.batch(run, shard: 2)], writer, tracker)
            #expect(mixed.kept.count == 6)
            let pending = try await Self.count("SELECT count(*) AS n FROM diversity_pending WHERE run_id = $1::uuid", run, connection)
            #expect(pending == (persistInterval == .zero ? 0 : 18))
            let merged = try await Self.merged(run, connection)
            #expect(merged.accumulator.recordCount == 18)
            #expect(merged.pendingRecords == pending)

            await tracker.flush(connection: connection)
            #expect(try await Self.count("SELECT count(*) AS n FROM diversity_pending WHERE run_id = $1::uuid", run, connection) == 0)
            #expect(try await Self.count("SELECT records AS n FROM diversity_states WHERE run_id = $1::uuid", run, connection) == 18)
            let snapshot = try #require(try await connection.query("""
                SELECT records_seen, is_final, metrics::text AS metrics FROM metric_snapshots WHERE run_id = $1::uuid ORDER BY snapshot DESC LIMIT 1
                """, [run]).first)
            #expect(snapshot["records_seen"].int == 18)
            #expect(snapshot["is_final"].bool == false)
            let live = try JSONDecoder().decode(DiversityMetrics.self, from: Data((snapshot["metrics"].string ?? "").utf8))
            #expect(live["live"] == 1)
            Self.expectAgreement(live, try await Self.exact(run, connection))
            await connection.close()
        }
    }

    @Test func aRestartedReducerRecoversItsStateFromPostgres() async throws {
        try await Self.withRun { run, connect in
            let settings = LiveDiversitySettings(persistInterval: .seconds(3600))
            // Reducer r1 stores two batches (state only pending), then dies without flushing.
            let firstConnection = try await connect()
            var tracker = LiveDiversityTracker(reducer: "r1", settings: settings, logger: Self.logger)
            try await Self.write([Self.batch(run, shard: 0)], RecordWriter(connection: firstConnection), tracker)
            try await Self.write([Self.batch(run, shard: 1)], RecordWriter(connection: firstConnection), tracker)
            await firstConnection.close()

            // Restarted under the same name, it picks up its partial (pending rows) and goes on.
            let connection = try await connect()
            let writer = RecordWriter(connection: connection)
            tracker = LiveDiversityTracker(reducer: "r1", settings: settings, logger: Self.logger)
            try await Self.write([Self.batch(run, shard: 1), Self.batch(run, shard: 2)], writer, tracker)
            await tracker.flush(connection: connection)
            #expect(try await Self.count("SELECT records AS n FROM diversity_states WHERE run_id = $1::uuid AND reducer = 'r1'", run, connection) == 18)

            // A transaction that fails (a batch of an unknown run) changes nothing live.
            await #expect(throws: (any Error).self) {
                try await Self.write([Self.batch(run, shard: 3), Self.batch(UUID().uuidString.lowercased(), shard: 0)], writer, tracker)
            }
            // A reducer with a new name (the usual restart) adds its own partial; readers merge both.
            let other = LiveDiversityTracker(reducer: "r2", settings: settings, logger: Self.logger)
            try await Self.write([Self.batch(run, shard: 3), Self.batch(run, shard: 2)], writer, other)
            try await Self.write([Self.batch(run, shard: 4)], writer, tracker)
            let merged = try await Self.merged(run, connection)
            #expect(merged.partials == 2)
            #expect(merged.accumulator.recordCount == 30)
            Self.expectAgreement(merged.accumulator.snapshot(), try await Self.exact(run, connection))
            await connection.close()
        }
    }

    /// A snapshot merges the writing reducer's partial from its memory (not its pending
    /// rows read back: they are deleted here before it) with every other reducer's rows:
    /// the same metrics as merging all the rows, each record counted once, pending
    /// records still reported as pending.
    @Test func aSnapshotTakesItsOwnPartialFromMemoryAndCountsEachRecordOnce() async throws {
        try await Self.withRun { run, connect in
            // Never persisted within the test: every record stays pending in PostgreSQL.
            let settings = LiveDiversitySettings(persistInterval: .seconds(3600), snapshotInterval: .zero)
            let a = try await connect()
            let b = try await connect()
            let first = LiveDiversityTracker(reducer: "r1", settings: settings, logger: Self.logger)
            let second = LiveDiversityTracker(reducer: "r2", settings: settings, logger: Self.logger)
            try await Self.write([Self.batch(run, shard: 0), Self.batch(run, shard: 1)], RecordWriter(connection: a), first)
            try await Self.write([Self.batch(run, shard: 2)], RecordWriter(connection: b), second)
            let fromRows = try await Self.merged(run, a)
            #expect(fromRows.accumulator.recordCount == 18)
            // r1's pending rows gone: a snapshot that read r1 back would see 6 records, not 18.
            try await a.execute("DELETE FROM diversity_pending WHERE run_id = $1::uuid AND reducer = 'r1'", [run])
            await first.writeDueSnapshots(connection: a)
            let snapshot = try #require(try await a.query(
                "SELECT records_seen, metrics::text AS metrics FROM metric_snapshots WHERE run_id = $1::uuid ORDER BY snapshot DESC LIMIT 1", [run]).first)
            #expect(snapshot["records_seen"].int == 18)
            let live = try JSONDecoder().decode(DiversityMetrics.self, from: Data((snapshot["metrics"].string ?? "").utf8))
            #expect(live["live_partials"] == 2)
            #expect(live["live_pending_records"] == 18)
            var expected = fromRows.accumulator.snapshot()
            expected["live"] = 1
            expected["live_partials"] = 2
            expected["live_pending_records"] = 18
            #expect(live == expected)
            #expect(try await Self.count("SELECT count(*)::int AS n FROM diversity_pending WHERE run_id = $1::uuid", run, a) == 6)
            await a.close()
            await b.close()
        }
    }

    @Test func concurrentReducersMergeToTheExactMetrics() async throws {
        try await Self.withRun { run, connect in
            let settings = LiveDiversitySettings(persistInterval: .milliseconds(1))
            let a = try await connect()
            let b = try await connect()
            let trackerA = LiveDiversityTracker(reducer: "a", settings: settings, logger: Self.logger)
            let trackerB = LiveDiversityTracker(reducer: "b", settings: settings, logger: Self.logger)
            // Both reducers take overlapping batches (a redelivery race): each record counts once.
            async let left: Void = {
                for shard in [0, 2, 4, 6, 5] { try await Self.write([Self.batch(run, shard: shard)], RecordWriter(connection: a), trackerA) }
            }()
            async let right: Void = {
                for shard in [1, 3, 5, 7, 6] { try await Self.write([Self.batch(run, shard: shard)], RecordWriter(connection: b), trackerB) }
            }()
            _ = try await (left, right)
            await trackerA.flush(connection: a)
            await trackerB.flush(connection: b)
            let merged = try await Self.merged(run, a)
            #expect(merged.partials == 2)
            #expect(merged.accumulator.recordCount == 48)
            #expect(try await Self.count("SELECT sum(records)::int AS n FROM diversity_states WHERE run_id = $1::uuid", run, a) == 48)
            Self.expectAgreement(merged.accumulator.snapshot(), try await Self.exact(run, a))
            // Each reducer wrote a final live snapshot when it went idle; the later one covers everything.
            let latest = try await a.query(
                "SELECT records_seen FROM metric_snapshots WHERE run_id = $1::uuid ORDER BY snapshot DESC LIMIT 1", [run]).first
            #expect(latest?["records_seen"].int == 48)
            await a.close()
            await b.close()
        }
    }

    @Test func idlePartialsAreEvictedAndReloaded() async throws {
        try await Self.withRun { run, connect in
            let connection = try await connect()
            let writer = RecordWriter(connection: connection)
            let clock = LockedClock()
            let tracker = LiveDiversityTracker(
                reducer: "r", settings: LiveDiversitySettings(persistInterval: .seconds(3600), evictAfter: .seconds(60)),
                logger: Self.logger, clock: { clock.now }
            )
            try await Self.write([Self.batch(run, shard: 0)], writer, tracker)
            await tracker.flush(connection: connection)
            #expect(tracker.runsInMemory == [run])
            #expect(tracker.hasUnflushedWork == false)
            clock.advance(by: .seconds(61))
            #expect(tracker.hasUnflushedWork)
            await tracker.flush(connection: connection)
            #expect(tracker.runsInMemory.isEmpty)
            // More records later: the partial comes back from PostgreSQL and goes on.
            try await Self.write([Self.batch(run, shard: 1)], writer, tracker)
            await tracker.flush(connection: connection)
            #expect(try await Self.count("SELECT records AS n FROM diversity_states WHERE run_id = $1::uuid", run, connection) == 12)
            await connection.close()
        }
    }

    static func reducers(_ run: String, _ connection: PostgresConnection) async throws -> [String] {
        try await connection.query("""
            SELECT reducer FROM diversity_states WHERE run_id = $1::uuid
            UNION SELECT reducer FROM diversity_pending WHERE run_id = $1::uuid ORDER BY 1
            """, [run]).compactMap { $0["reducer"].string }
    }

    @Test func partialsOfDeadReducersAreCompactedAndLiveOnesKept() async throws {
        try await Self.withRun { run, connect in
            let pendingOnly = LiveDiversitySettings(persistInterval: .seconds(3600))
            let everyWrite = LiveDiversitySettings(persistInterval: .zero)
            // Two reducers store records and die (their sessions end): one with a persisted
            // state, one with pending rows only.
            for (name, settings, shard) in [("dead-1", everyWrite, 0), ("dead-2", pendingOnly, 1)] {
                let connection = try await connect()
                try await Self.write([Self.batch(run, shard: shard)], RecordWriter(connection: connection), LiveDiversityTracker(reducer: name, settings: settings, logger: Self.logger))
                await connection.close()
            }
            // Two live reducers, each on its own session.
            let liveConnection = try await connect()
            let otherConnection = try await connect()
            let live = LiveDiversityTracker(reducer: "live", settings: pendingOnly, logger: Self.logger)
            let other = LiveDiversityTracker(reducer: "other", settings: pendingOnly, logger: Self.logger)
            try await Self.write([Self.batch(run, shard: 2)], RecordWriter(connection: otherConnection), other)
            try await Self.write([Self.batch(run, shard: 3)], RecordWriter(connection: liveConnection), live)
            #expect(try await Self.reducers(run, liveConnection) == ["dead-1", "dead-2", "live", "other"])

            // A snapshot by `live` folds the dead ones into one partial; `other` is left alone.
            await live.flush(connection: liveConnection)
            #expect(try await Self.reducers(run, liveConnection) == ["(compacted)", "live", "other"])
            #expect(try await Self.count("SELECT records AS n FROM diversity_states WHERE run_id = $1::uuid AND reducer = '(compacted)'", run, liveConnection) == 12)
            var merged = try await Self.merged(run, liveConnection)
            #expect(merged.accumulator.recordCount == 24)
            Self.expectAgreement(merged.accumulator.snapshot(), try await Self.exact(run, liveConnection))

            // `other` loses its session (the server ends it) and is compacted meanwhile; its
            // next write is on a new session, so it re-takes its lock and drops its stale
            // cache instead of storing the compacted records a second time.
            let pid = try await otherConnection.backendProcessID()
            _ = try await liveConnection.query("SELECT pg_terminate_backend($1) AS ended", [String(pid)])
            try await Task.sleep(for: .milliseconds(200))
            try await Self.write([Self.batch(run, shard: 4)], RecordWriter(connection: liveConnection), live)
            await live.flush(connection: liveConnection)
            #expect(try await Self.reducers(run, liveConnection) == ["(compacted)", "live"])
            var stored = false
            for _ in 0..<3 where !stored {
                // The first statement on the ended session fails; the next one reconnects.
                stored = (try? await Self.write([Self.batch(run, shard: 5)], RecordWriter(connection: otherConnection), other)) != nil
            }
            #expect(stored)
            await other.flush(connection: otherConnection)
            merged = try await Self.merged(run, liveConnection)
            #expect(merged.accumulator.recordCount == 36)
            #expect(try await Self.count("SELECT records AS n FROM diversity_states WHERE run_id = $1::uuid AND reducer = 'other'", run, liveConnection) == 6)
            Self.expectAgreement(merged.accumulator.snapshot(), try await Self.exact(run, liveConnection))
            await liveConnection.close()
            await otherConnection.close()
        }
    }

    @Test func aStateWrittenWithOtherLimitsIsAClearError() async throws {
        try await Self.withRun { run, connect in
            let connection = try await connect()
            var limits = LiveDiversitySettings.liveConfiguration
            limits.homogenizationSampleSize = 7
            let other = limits
            _ = try await connection.transaction { connection in
                try DiversityStateStore.persist(run: run, reducer: "old", accumulator: DiversityAccumulator(configuration: other), connection: connection)
            }
            await #expect {
                try await Self.merged(run, connection)
            } throws: { error in
                "\(error)".contains("other limits") && "\(error)".contains(run)
            }
            // The reducer still stores the records, without live metrics for that run.
            let tracker = LiveDiversityTracker(reducer: "old", settings: LiveDiversitySettings(), logger: Self.logger)
            let outcome = try await Self.write([Self.batch(run, shard: 0)], RecordWriter(connection: connection), tracker)
            #expect(outcome.kept.count == 6)
            await connection.close()
        }
    }
}

/// A settable clock for the tracker's intervals.
final class LockedClock: @unchecked Sendable {
    // @unchecked Sendable: `offset` is only touched under `lock`.
    private let lock = NSLock()
    private let start = ContinuousClock.now
    private var offset: Duration = .zero

    var now: ContinuousClock.Instant { lock.withLock { start + offset } }
    func advance(by duration: Duration) { lock.withLock { offset += duration } }
}
