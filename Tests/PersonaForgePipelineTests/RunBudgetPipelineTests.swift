import Foundation
import PersonaForgeStore
import PersonaForgeTestSupport
import Testing

/// Runs that stop at a budget (`budget:`) and what records cost, with the real
/// `personaforge run` against Redis, PostgreSQL and the HTTP fixture (whose every
/// completion reports 7 prompt and 3 completion tokens).
@Suite(.serialized) struct RunBudgetPipelineTests {
    struct Stopped {
        var state: String
        var stopReason: String?
        var kept: Int
        var records: Int
        var tokens: Int
        var cost: Double
        var recordCost: Double
        var nextShard: Int
        var shardCount: Int
        var shardsStored: Int
    }

    static func stopped(_ harness: PipelineHarness, name: String) async throws -> (id: String, run: Stopped) {
        let database = try await harness.database()
        defer { Task { await database.close() } }
        let rows = try await database.query("""
            SELECT r.id::text AS id, r.state, r.stop_reason, r.records_kept, r.prompt_tokens + r.completion_tokens AS tokens, r.cost,
                   r.next_shard, r.shard_count,
                   (SELECT count(*) FROM records WHERE run_id = r.id) AS records,
                   (SELECT coalesce(sum(cost), 0) FROM records WHERE run_id = r.id) AS record_cost,
                   (SELECT count(*) FROM run_shards WHERE run_id = r.id) AS shards_stored
            FROM runs r WHERE r.namespace = $1 AND r.name = $2
            """, [harness.namespace, name])
        let row = try #require(rows.first)
        return (row["id"].string ?? "", Stopped(
            state: row["state"].string ?? "", stopReason: row["stop_reason"].string, kept: row["records_kept"].int ?? -1,
            records: row["records"].int ?? -1, tokens: row["tokens"].int ?? -1, cost: row["cost"].double ?? -1,
            recordCost: row["record_cost"].double ?? -1, nextShard: row["next_shard"].int ?? -1,
            shardCount: row["shard_count"].int ?? -1, shardsStored: row["shards_stored"].int ?? -1
        ))
    }

    /// `personaforge run` of 120 personas in shards of 5 (1 worker: at most 4 shards queued at once).
    static func runWithBudget(_ harness: PipelineHarness, name: String, model: [String] = [], budget: String) async throws -> (id: String, run: Stopped) {
        let config = try harness.writeConfig(name: name, personas: 120, shardSize: 5, model: model, extra: "budget:\n" + budget)
        let result = try await harness.run(["run", config, "--workers", "1", "--concurrency", "2", "--progress-interval", "0.5"], timeout: .seconds(120))
        #expect(result.status == 0, "\(result.output.suffix(2000))")
        return try await stopped(harness, name: name)
    }

    static func checkStoppedEarly(_ run: Stopped, _ reason: String) {
        print("measured: stopped by \(reason): kept \(run.kept), records \(run.records), tokens \(run.tokens), cost \(run.cost), shards \(run.nextShard) of \(run.shardCount)")
        #expect(run.state == "completed" && run.stopReason == reason, "\(run)")
        #expect(run.nextShard < run.shardCount, "it stopped queueing before the end: \(run)")
        // Completed means every shard it did queue is stored, each with its 5 records.
        #expect(run.shardsStored == run.nextShard && run.records == run.nextShard * 5, "\(run)")
    }

    @Test func aRunStopsQueueingAtItsTargetOfKeptRecordsAndCompletes() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let (id, run) = try await Self.runWithBudget(harness, name: "target-kept", budget: "  target_kept: 10")
        Self.checkStoppedEarly(run, "target_kept")
        // At least the target; the coordinator queues only what the yield so far says is
        // needed, so beyond it by at most a couple of shards (stale totals between passes).
        #expect(run.kept >= 10 && run.kept <= 10 + 5 * 3, "\(run)")
        #expect(run.cost == 0 && run.recordCost == 0, "without prices a run costs nothing: \(run)")
        let status = try await harness.run(["status", id])
        #expect(status.output.contains("budget    target_kept 10: \(run.kept) kept — reached, no more shards queued"), "\(status.output)")
        #expect(status.output.contains("(10.0 per kept record)"), "7 + 3 tokens per record, all kept: \(status.output)")
    }

    @Test func aTokenBudgetStopsARun() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let (_, run) = try await Self.runWithBudget(harness, name: "max-tokens", budget: "  max_tokens: 150")
        Self.checkStoppedEarly(run, "max_tokens")
        #expect(run.tokens >= 150 && run.tokens <= 150 + 10 * 5 * 3 && run.tokens == run.records * 10, "\(run)")
    }

    @Test func recordsCostTheirTokensAtTheEndpointsPricesAndACostBudgetStopsTheRun() async throws {
        let harness = try PipelineHarness(llm: "ok")
        // 7 prompt tokens at 1.5 and 3 completion tokens at 4 per million: 22.5e-6 per record.
        let (id, run) = try await Self.runWithBudget(
            harness, name: "max-cost",
            model: ["price_per_million_prompt_tokens: 1.5", "price_per_million_completion_tokens: 4"],
            budget: "  max_cost: 0.0004"
        )
        Self.checkStoppedEarly(run, "max_cost")
        let perRecord = (7 * 1.5 + 3 * 4) / 1_000_000
        #expect(abs(run.cost - Double(run.records) * perRecord) < 1e-12, "\(run)")
        #expect(abs(run.recordCost - run.cost) < 1e-12, "the run's total is the sum of its records: \(run)")
        #expect(run.cost >= 0.0004, "\(run)")
        let report = try await harness.run(["report", id])
        #expect(report.output.contains("cost      \(RunSummary.money(run.cost))  (2.25e-05 per kept record)"), "\(report.output)")
        #expect(report.output.contains("budget    max_cost 0.0004:"), "\(report.output)")
    }

    @Test func aMaxCostWithoutPricesIsRefusedAtSubmit() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let config = try harness.writeConfig(name: "unpriced", personas: 3, shardSize: 5, extra: "budget:\n  max_cost: 1")
        let submitted = try await harness.run(["submit", config])
        #expect(submitted.status == 2, "\(submitted.output)")
        #expect(submitted.output.contains("budget: max_cost needs prices"), "\(submitted.output)")
    }
}
