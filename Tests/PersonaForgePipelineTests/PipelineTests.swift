import Foundation
import PersonaForgeTestSupport
import Testing

/// The distributed run end to end: real `personaforge` processes, real Redis and
/// PostgreSQL, the real local LLM or a fault-injecting fixture.
@Suite(.serialized) struct PipelineTests {
    @Test func runAgainstTheRealModelAccountsForEverySample() async throws {
        let harness = try PipelineHarness(llm: nil)
        let config = try harness.writeConfig(name: "real", personas: 4, samples: 2, shardSize: 3, maxTokens: 12)
        let result = try await harness.run(["run", config, "--workers", "2", "--progress-interval", "1"], timeout: .seconds(300))
        #expect(result.status == 0, "\(result.output.suffix(3000))")
        #expect(result.output.contains("[completed]"))
        let runID = try #require(result.output.firstMatch(of: /submitted run ([0-9a-f-]{36})/).map { String($0.1) })
        let counts = try await harness.counts(runID)
        #expect(counts.state == "completed")
        #expect(counts.records == 8)
        #expect(counts.distinctKeys == 8)
        #expect(counts.kept + counts.filtered + counts.failed == 8)
        #expect(counts.counted == 8)
        #expect(counts.shards == 3)  // 8 samples in shards of 3

        // Coverage and yield per axis value add up to the run's counts.
        let database = try await harness.database()
        let coverage = try await database.query("""
            SELECT count(*) AS n, sum(generated) AS generated, sum(kept) AS kept, sum(tokens) AS tokens
            FROM axis_coverage WHERE run_id = $1::uuid AND axis = 'persona'
            """, [runID])[0]
        #expect(coverage["n"].int == 4)
        #expect(coverage["generated"].int == 8)
        #expect(coverage["kept"].int == counts.kept)
        #expect((coverage["tokens"].int ?? 0) > 0)
        await database.close()
        // Diversity of the kept records, stored as the run's final snapshot.
        let evaluation = try await harness.run(["evaluate", runID, "--json", "--save"])
        #expect(evaluation.status == 0, "\(evaluation.output)")
        let jsonLine = try #require(evaluation.output.split(separator: "\n").last { $0.hasPrefix("{") })
        let metrics = try #require(try JSONSerialization.jsonObject(with: Data(jsonLine.utf8)) as? [String: Double])
        if counts.kept > 0 {
            #expect((metrics["distinct_1"] ?? 0) > 0)
            #expect((metrics["compression_ratio"] ?? 0) > 0)  // below 1 for a few short texts: gzip headers dominate
        }
        let status = try await harness.run(["status", runID])
        #expect(status.output.contains("coverage  persona: 4 values seen"))
        #expect(status.output.contains("diversity"))

        // Export writes the kept records with provenance, one JSON object per line.
        let output = harness.directory.appendingPathComponent("kept.jsonl").path
        let export = try await harness.run(["export", runID, "--output", output])
        #expect(export.status == 0, "\(export.output)")
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == counts.kept)
        if let first = lines.first {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
            #expect(object["status"] as? String == "kept")
            #expect(object["model"] as? String == "smollm2-135m-instruct")
            #expect((object["condition"] as? [[String: Any]])?.first?["axis"] as? String == "persona")
            #expect(object["prompt_hash"] is String)
        }

        // The same config again is refused with the existing id.
        let again = try await harness.run(["submit", config])
        #expect(again.status == 3)
        #expect(again.output.contains(runID))
    }

    @Test func killingAWorkerMidShardLosesAndDuplicatesNothing() async throws {
        let harness = try PipelineHarness(llm: "slow")
        let runID = try await harness.submit(try harness.writeConfig(name: "kill", personas: 40, shardSize: 4))
        try harness.start(["coordinator", "--shard-lease", "2", "--high-water-mark", "4"])
        try harness.start(["reducer"])
        let victim = try harness.start(["worker", "--shard-lease", "2", "--concurrency", "1"])
        // Let the victim take a shard and get part-way through it (each sample takes 300 ms).
        try await Task.sleep(for: .milliseconds(1500))
        // The victim holds an unacknowledged shard when it dies.
        let held = try await harness.redis().pendingSummary("pf:{\(harness.namespace)}:shards", group: "workers")
        #expect(held.count >= 1)
        victim.terminate(signal: SIGKILL)
        try harness.start(["worker", "--shard-lease", "2", "--concurrency", "2"])
        let counts = try await harness.waitFor(runID) { $0.state == "completed" }
        #expect(counts.records == 40)
        #expect(counts.distinctKeys == 40)
        #expect(counts.counted == 40)
        #expect(counts.kept == 40)
        #expect(counts.shards == 10)
        #expect(counts.deadShards == 0)
    }

    @Test func restartingTheCoordinatorContinuesTheRun() async throws {
        let harness = try PipelineHarness(llm: "slow")
        let runID = try await harness.submit(try harness.writeConfig(name: "restart", personas: 30, shardSize: 2))
        let first = try harness.start(["coordinator", "--high-water-mark", "2", "--lease-ttl", "2"])
        try harness.start(["reducer"])
        try harness.start(["worker", "--concurrency", "2"])
        try await harness.waitFor(runID, timeout: .seconds(60)) { $0.records >= 4 }
        first.terminate(signal: SIGKILL)
        let partial = try await harness.counts(runID)
        #expect(partial.state == "running")
        #expect(partial.records < 30)
        try harness.start(["coordinator", "--high-water-mark", "2", "--lease-ttl", "2"])
        let counts = try await harness.waitFor(runID) { $0.state == "completed" }
        #expect(counts.records == 30)
        #expect(counts.distinctKeys == 30)
        #expect(counts.counted == 30)
    }

    @Test func pauseResumeAndCancel() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let paused = try await harness.submit(try harness.writeConfig(name: "paused", personas: 12, shardSize: 3))
        #expect(try await harness.run(["runs", "pause", paused]).status == 0)
        let cancelled = try await harness.submit(try harness.writeConfig(name: "cancelled", personas: 12, shardSize: 3))
        #expect(try await harness.run(["runs", "cancel", cancelled]).status == 0)
        try harness.start(["coordinator"])
        try harness.start(["reducer"])
        try harness.start(["worker"])
        try await Task.sleep(for: .seconds(2))
        var counts = try await harness.counts(paused)
        #expect(counts.state == "paused")
        #expect(counts.records == 0)
        #expect(try await harness.run(["runs", "resume", paused]).status == 0)
        counts = try await harness.waitFor(paused, timeout: .seconds(60)) { $0.state == "completed" }
        #expect(counts.records == 12)

        // Resuming a completed run is refused with a reason.
        let refused = try await harness.run(["runs", "resume", paused])
        #expect(refused.status != 0)
        #expect(refused.output.contains("cannot become running"))

        // The cancelled run was never fed, while the other one ran to completion.
        counts = try await harness.counts(cancelled)
        #expect(counts.state == "cancelled")
        #expect(counts.records == 0)
    }

    @Test func aShardThatAlwaysFailsIsDeadLetteredWithItsReason() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let runID = try await harness.submit(try harness.writeConfig(name: "dead", personas: 4, shardSize: 2))
        // Break the stored config so no worker can prepare the run.
        let database = try await harness.database()
        try await database.execute("UPDATE runs SET config_yaml = 'name: [unclosed' WHERE id = $1::uuid", [runID])
        await database.close()
        try harness.start(["coordinator", "--shard-lease", "1", "--max-deliveries", "2"])
        try harness.start(["reducer"])
        try harness.start(["worker", "--shard-lease", "1"])
        let counts = try await harness.waitFor(runID, timeout: .seconds(60)) { $0.state == "completed" }
        #expect(counts.deadShards == 2)
        #expect(counts.records == 0)
        let redis = try harness.redis()
        let dead = try await redis.send("XRANGE", "pf:{\(harness.namespace)}:dead", "-", "+")
        let reasons = (dead.array ?? []).compactMap { entry -> String? in
            guard let fields = entry.array?.last?.array else { return nil }
            return zip(fields, fields.dropFirst()).first { $0.0.string == "reason" }?.1.string
        }
        #expect(reasons.count == 2)
        #expect(reasons.allSatisfy { $0.contains("no longer loads") }, "\(reasons)")
    }

    @Test func sigtermDrainsTheCurrentShardAndExitsZero() async throws {
        let harness = try PipelineHarness(llm: "slow")
        let runID = try await harness.submit(try harness.writeConfig(name: "drain", personas: 8, shardSize: 8))
        try harness.start(["coordinator"])
        try harness.start(["reducer"])
        let worker = try harness.start(["worker", "--concurrency", "1", "--grace-period", "20"])
        try await Task.sleep(for: .seconds(2))  // the worker is inside the 8 × 300 ms shard
        worker.send(signal: SIGTERM)
        let status = await worker.waitForExit(timeout: .seconds(25))
        #expect(status == 0)
        #expect(harness.log(of: 2).contains("shard done"), "the worker should finish its shard before exiting")
        // It finished the shard it held instead of abandoning it.
        let counts = try await harness.waitFor(runID, timeout: .seconds(20)) { $0.state == "completed" }
        #expect(counts.records == 8)
    }

    @Test func axisValuesComeFromAPostgresTableByIndex() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let table = "pf_axis_\(harness.namespace)"
        let database = try await harness.database()
        try await database.execute("CREATE TABLE \(table) (id bigint PRIMARY KEY, persona text NOT NULL, grade int)")
        try await database.execute("INSERT INTO \(table) SELECT i, 'table persona ' || i, 100 + i FROM generate_series(0, 5) AS i")
        let yaml = """
            name: table-axis
            shard_size: 4
            axes:
              - name: persona
                source:
                  postgres: {table: \(table), column: persona, fields: [grade]}
              - name: tone
                source: {values: [calm, eager]}
            steps:
              - name: question
                user: "Persona {{persona}} in grade {{persona.grade}} asks, {{tone}}, one question."
            """
        let path = harness.directory.appendingPathComponent("table.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await harness.run(["run", path, "--workers", "1", "--progress-interval", "1"])
        #expect(result.status == 0, "\(result.output.suffix(2000))")
        let runID = try #require(result.output.firstMatch(of: /submitted run ([0-9a-f-]{36})/).map { String($0.1) })
        let rows = try await database.query("SELECT text FROM records WHERE run_id = $1::uuid ORDER BY position", [runID])
        #expect(rows.count == 12)  // 6 rows × 2 tones
        // The fixture echoes the prompt: each one was rendered from its own table row and field.
        for index in 0..<6 {
            #expect(rows.contains { ($0["text"].string ?? "").contains("Persona table persona \(index) in grade \(100 + index)") })
        }

        // Ids that are not dense 0…n−1 are refused at submit, with the fix.
        try await database.execute("UPDATE \(table) SET id = id + 10 WHERE id = 5")
        let refused = try await harness.run(["submit", path, "--new"])
        #expect(refused.status == 2)
        #expect(refused.output.contains("must hold the dense ids 0…5"))
        try await database.execute("DROP TABLE \(table)")
        await database.close()
    }

    @Test func nearDuplicatesAreRemovedGloballyByConcurrentReducers() async throws {
        // The fixture echoes the prompt, and the prompt ignores the sample index: the two
        // samples of each condition are identical texts, different conditions are not.
        let harness = try PipelineHarness(llm: "ok")
        let config = try harness.writeConfig(name: "dedup", personas: 12, samples: 2, shardSize: 3, extra: "dedup:\n  scope: global\n  seed: \(UInt16.random(in: 1...UInt16.max))")
        let first = try await harness.submit(config)
        try harness.start(["coordinator"])
        let reducerA = try harness.start(["reducer", "--batch-count", "1"])
        let reducerB = try harness.start(["reducer", "--batch-count", "1"])
        try harness.start(["worker"])
        try harness.start(["worker"])
        var counts = try await harness.waitFor(first, timeout: .seconds(60)) { $0.state == "completed" }
        let database = try await harness.database()
        func statuses(_ run: String) async throws -> [String: Int] {
            var result: [String: Int] = [:]
            for row in try await database.query("SELECT status, count(*) AS n FROM records WHERE run_id = $1::uuid GROUP BY status", [run]) {
                result[row["status"].string ?? ""] = row["n"].int ?? 0
            }
            return result
        }
        #expect(counts.records == 24)
        let firstStatuses = try await statuses(first)
        #expect(firstStatuses == ["kept": 12, "duplicate": 12], "\(firstStatuses); reducer logs: \(harness.log(of: 1).suffix(2000)) \(harness.log(of: 2).suffix(2000))")
        // Each duplicate points at the kept twin of the same condition.
        let pairs = try await database.query("""
            SELECT d.position = k.position AND k.status = 'kept' AS ok FROM records d
            JOIN records k ON k.run_id = d.duplicate_of_run_id AND k.position = d.duplicate_of_position AND k.sample = d.duplicate_of_sample
            WHERE d.run_id = $1::uuid AND d.status = 'duplicate'
            """, [first])
        #expect(pairs.count == 12)
        #expect(pairs.allSatisfy { $0["ok"].bool == true })

        // Global scope: the same config run again duplicates everything from the first run,
        // decided by a new reducer process that recovers the index from PostgreSQL alone.
        reducerA.terminate(signal: SIGKILL)
        reducerB.terminate(signal: SIGKILL)
        try harness.start(["reducer"])
        let resubmitted = try await harness.run(["submit", config, "--new"])
        #expect(resubmitted.status == 0)
        let second = resubmitted.output.split(separator: "\n").last.map(String.init) ?? ""
        counts = try await harness.waitFor(second, timeout: .seconds(60)) { $0.state == "completed" }
        #expect(try await statuses(second) == ["duplicate": 24])
        let crossRun = try await database.query(
            "SELECT count(*) AS n FROM records WHERE run_id = $1::uuid AND duplicate_of_run_id = $2::uuid", [second, first])
        #expect(crossRun.first?["n"].int == 24)
        await database.close()
    }

    @Test func theKeptSetDependsOnlyOnTheConfigNotOnWorkersReducersOrCrashes() async throws {
        // The fixture echoes the prompt, which ignores the sample index: the 3 samples of a
        // persona are one text, so which of them is kept is exactly what arrival order
        // would decide under a first-seen rule. 20 shards of 3 at 300 ms a sample.
        let harness = try PipelineHarness(llm: "slow")
        let config = try harness.writeConfig(name: "deterministic", personas: 20, samples: 3, shardSize: 3)
        let database = try await harness.database()
        // One worker and one reducer; then three workers, two reducers taking one batch at
        // a time, one of them killed mid-run and a third started.
        let (serial, parallel, records) = try await harness.runSeriallyThenInParallelWithAReducerKilled(config)
        #expect(records == 60)

        let serialKept = try await harness.keptKeys(serial, database: database)
        let parallelKept = try await harness.keptKeys(parallel, database: database)
        #expect(serialKept.count == 20, "one kept record per persona: \(serialKept)")
        #expect(serialKept == parallelKept)
        // The kept one of each persona is its earliest sample in the run's sample order.
        #expect(parallelKept == (try await harness.earliestSampleKeys(parallel, database: database)))
        // The counters agree with the rows after the retroactive marks.
        for run in [serial, parallel] {
            let row = try #require(try await database.query("""
                SELECT records_kept AS k, records_duplicate AS d,
                       (SELECT count(*) FROM records WHERE run_id = $1::uuid AND status = 'duplicate') AS rows_d,
                       (SELECT sum(kept) FROM axis_coverage WHERE run_id = $1::uuid) AS coverage_k
                FROM runs WHERE id = $1::uuid
                """, [run]).first)
            #expect(row["k"].int == 20)
            #expect(row["d"].int == 40)
            #expect(row["rows_d"].int == 40)
            #expect(row["coverage_k"].int == 20)
        }
        await database.close()
    }

    @Test func aRunsModelAPIAndTimeoutAreWhatTheWorkerUses() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let fixture = try #require(harness.fixture)
        // api: completions — the fixture answers /v1/completions with "completion: PROMPT".
        let completions = try harness.writeConfig(name: "completions", personas: 3, shardSize: 3, model: ["api: completions"])
        let first = try await harness.run(["run", completions, "--workers", "1", "--progress-interval", "1"])
        #expect(first.status == 0, "\(first.output.suffix(2000))")
        let completionsRun = try #require(first.output.firstMatch(of: /submitted run ([0-9a-f-]{36})/).map { String($0.1) })
        let database = try await harness.database()
        let texts = try await database.query("SELECT text FROM records WHERE run_id = $1::uuid", [completionsRun]).compactMap { $0["text"].string }
        #expect(texts.count == 3)
        #expect(texts.allSatisfy { $0.hasPrefix("completion: You are persona number") }, "\(texts)")

        // timeout_seconds: 0.1 against a server that takes 300 ms: every request times out.
        let timeouts = try harness.writeConfig(name: "timeouts", personas: 2, shardSize: 2, model: ["timeout_seconds: 0.1"])
        let second = try await harness.run(
            ["run", timeouts, "--workers", "1", "--progress-interval", "1"], environment: ["PERSONAFORGE_LLM_BASE_URL": "\(fixture.baseURL)/fault/slow/v1"]
        )
        #expect(second.status == 0, "\(second.output.suffix(2000))")
        let timeoutsRun = try #require(second.output.firstMatch(of: /submitted run ([0-9a-f-]{36})/).map { String($0.1) })
        let outcomes = try await database.query("SELECT status, reject_reason FROM records WHERE run_id = $1::uuid", [timeoutsRun])
        #expect(outcomes.count == 2)
        #expect(outcomes.allSatisfy { $0["status"].string == "failed" && $0["reject_reason"].string == "timeout" }, "\(outcomes.map { ($0["status"].string, $0["reject_reason"].string) })")
        await database.close()
    }

    @Test func retriesRateLimitedRequests() async throws {
        let harness = try PipelineHarness(llm: "flaky")
        let runID = try await harness.submit(try harness.writeConfig(name: "flaky", personas: 12, shardSize: 4))
        try harness.start(["coordinator"])
        try harness.start(["reducer"])
        try harness.start(["worker", "--concurrency", "4"])
        let counts = try await harness.waitFor(runID, timeout: .seconds(60)) { $0.state == "completed" }
        // Every third request got a 429; retries turned all of them into kept records.
        #expect(counts.kept == 12)
        #expect(counts.failed == 0)
    }
}
