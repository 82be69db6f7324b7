import Foundation
import PersonaForgeTestSupport
import Testing

/// Several endpoints per run and fleet-wide rate limits, with real worker processes,
/// Redis, PostgreSQL and an HTTP fixture that counts what each endpoint saw
/// (Tests/fixtures/http_fixture.py: modes `ok-<tag>`, `500-<tag>`, `limit<N>-<tag>`, `/stats`).
@Suite(.serialized) struct LLMFleetPipelineTests {
    struct EndpointStats: Decodable {
        var calls: Int
        var accepted: Int
        var rejected: Int
        var peak_per_second: Int
    }

    static func stats(_ harness: PipelineHarness) async throws -> [String: EndpointStats] {
        let fixture = try #require(harness.fixture)
        let answer = try await harness.get(port: fixture.port, "stats")
        return try JSONDecoder().decode([String: EndpointStats].self, from: Data(answer.body.utf8))
    }

    /// `model:` lines for a pool of fixture endpoints: each a fixture mode and its other fields (`name: a, weight: 3`).
    static func endpoints(_ harness: PipelineHarness, _ items: [(mode: String, fields: String)]) throws -> [String] {
        try ["endpoints:"] + items.map { "  - {base_url: \"\(try url(harness, $0.mode))\"\($0.fields.isEmpty ? "" : ", " + $0.fields)}" }
    }

    /// No worker-wide base URL or model (deploy/local/env.sh exports both): each run's endpoints decide.
    static let runsOwnEndpoints = ["PERSONAFORGE_LLM_BASE_URL": "", "PERSONAFORGE_LLM_MODEL": ""]

    static func url(_ harness: PipelineHarness, _ mode: String) throws -> String {
        "\(try #require(harness.fixture).baseURL)/fault/\(mode)/v1"
    }

    /// Coordinator, reducer and `workers` worker processes (concurrency 4 each) until the run completes.
    @discardableResult
    static func runToCompletion(
        _ harness: PipelineHarness, _ config: String, workers: Int, environment: [String: String] = [:], keepRunning: Bool = false
    ) async throws -> (id: String, counts: PipelineHarness.Counts) {
        let runID = try await harness.submit(config)
        try harness.start(["coordinator"])
        try harness.start(["reducer"])
        for _ in 0..<workers { try harness.start(["worker", "--concurrency", "4"], environment: environment) }
        let counts = try await harness.waitFor(runID, timeout: .seconds(180)) { $0.state == "completed" }
        if !keepRunning {
            for process in harness.processes where process.isRunning { process.terminate(signal: SIGKILL) }
        }
        return (runID, counts)
    }

    @Test func fourWorkersUnderAFleetLimitStayBelowTheServersLimit() async throws {
        // The fixture answers 429 to a request beyond the 20th in one second.
        let harness = try PipelineHarness(llm: "limit20-free")
        // Without a fleet limit, 4 workers × 4 requests in flight run into it: the control that shows the test can fail.
        let free = try harness.writeConfig(name: "unlimited", personas: 120, shardSize: 10)
        let unlimited = try await Self.runToCompletion(harness, free, workers: 4).counts
        #expect(unlimited.records == 120)
        let control = try #require(try await Self.stats(harness)["limit20-free"])
        #expect(control.rejected > 0, "without a limit the fleet should exceed 20 requests/s: \(control)")

        // 600 per minute (10/s) for the fleet, on the endpoint the workers' PERSONAFORGE_LLM_BASE_URL names.
        // (At most 12.5 admitted in any second; the margin to 20 absorbs requests that a
        // loaded machine admits apart but delivers together.)
        let limited = try harness.writeConfig(name: "limited", personas: 120, shardSize: 10, model: ["requests_per_minute: 600"])
        let counts = try await Self.runToCompletion(
            harness, limited, workers: 4, environment: ["PERSONAFORGE_LLM_BASE_URL": try Self.url(harness, "limit20-limited")]
        ).counts
        #expect(counts.kept == 120, "\(counts)")
        let stats = try #require(try await Self.stats(harness)["limit20-limited"])
        print("measured: 4 workers, fixture limit 20/s: without a fleet limit \(control); with 600/min \(stats)")
        #expect(stats.rejected == 0, "4 workers sharing 10/s must never meet the server's 20/s: \(stats)")
        #expect(stats.accepted == 120)
    }

    @Test func requestsSpreadByWeightAndEachEndpointNamesItsModel() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let config = try harness.writeConfig(name: "weighted", personas: 200, shardSize: 20, model: try Self.endpoints(harness, [
            ("ok-a", "weight: 3, name: a"), ("ok-b", "weight: 1, name: b, model: other-model"),
        ]))
        let (runID, counts) = try await Self.runToCompletion(harness, config, workers: 1, environment: Self.runsOwnEndpoints)
        #expect(counts.kept == 200, "\(counts)")
        let stats = try await Self.stats(harness)
        let (a, b) = (stats["ok-a"]?.calls ?? 0, stats["ok-b"]?.calls ?? 0)
        #expect(a + b == 200, "\(stats)")
        print("measured: weights 3:1 over 200 requests (1 worker, 4 in flight): \(a):\(b)")
        #expect(a > 2 * b && b >= 20, "weights 3:1 gave \(a):\(b)")

        let database = try await harness.database()
        let rows = try await database.query("SELECT model, count(*) AS n FROM records WHERE run_id = $1::uuid GROUP BY model", [runID])
        await database.close()
        let models = Dictionary(uniqueKeysWithValues: rows.map { ($0["model"].string ?? "?", $0["n"].int ?? 0) })
        #expect(models == ["other-model": b, "smollm2-135m-instruct": a], "\(models)")
    }

    @Test func aFailingEndpointIsTakenOutAndItsRequestsGoToTheOthers() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let config = try harness.writeConfig(name: "ejected", personas: 200, shardSize: 20, model: try Self.endpoints(harness, [("500-x", "name: broken"), ("ok-c", "name: healthy")]))
        let (runID, counts) = try await Self.runToCompletion(harness, config, workers: 1, environment: Self.runsOwnEndpoints, keepRunning: true)
        // Every request that met the broken endpoint was sent again at once to the healthy one.
        #expect(counts.kept == 200 && counts.failed == 0, "\(counts)")
        let stats = try await Self.stats(harness)
        let broken = stats["500-x"]?.calls ?? 0
        // Without ejection it would get about half of 200; ejected after 3 failures
        // (up to 4 in flight), then a probe after 1, 2, 4 ... s.
        print("measured: a pool of one 500 endpoint and one healthy: \(stats)")
        #expect(broken >= 3 && broken <= 25, "\(stats)")
        #expect(stats["ok-c"]?.calls == 200, "\(stats)")

        // `status` shows what the worker saw of each endpoint (it reports after every shard).
        var output = ""
        for _ in 0..<40 {
            output = try await harness.run(["status", runID]).output
            if output.contains("healthy  in   ok 200") { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(output.contains("healthy  in   ok 200  errors 0  429/503 0  taken out 0×"), "\(output)")
        print("measured: status of a pool with a 500 endpoint:\n" + output.split(separator: "\n").filter { $0.contains("broken") || $0.contains("healthy") }.joined(separator: "\n"))
        let brokenLine = output.split(separator: "\n").first { $0.contains("broken ") }.map(String.init) ?? ""
        #expect(brokenLine.contains("ok 0  errors \(broken)  429/503 0"), "\(brokenLine)")
        #expect(brokenLine.contains("taken out ") && !brokenLine.contains("taken out 0×"), "\(brokenLine)")
        #expect(brokenLine.contains("last error: llm_server_error: "), "\(brokenLine)")
    }

    @Test func samplesOfOneConditionShareARequestWithN() async throws {
        let harness = try PipelineHarness(llm: "ok")
        // 10 personas × 4 samples, shards of 8 (two whole conditions each): one request per condition.
        // (Dedup off: the fixture's four choices differ by a few words, near-duplicates.)
        let shared = try harness.writeConfig(name: "n-shared", personas: 10, samples: 4, shardSize: 8, model: ["n: 4"] + (try Self.endpoints(harness, [("ok-n", "")])), extra: "dedup:\n  enabled: false")
        let (runID, counts) = try await Self.runToCompletion(harness, shared, workers: 1, environment: Self.runsOwnEndpoints)
        #expect(counts.kept == 40 && counts.distinctKeys == 40, "\(counts)")
        var stats = try await Self.stats(harness)
        #expect(stats["ok-n"]?.calls == 10, "\(stats)")
        let database = try await harness.database()
        let row = try await database.query("""
            SELECT count(DISTINCT text) AS texts, min((sampling->>'n')::int) AS n_min, max((sampling->>'n')::int) AS n_max,
                   sum(prompt_tokens + completion_tokens) AS tokens,
                   (SELECT prompt_tokens + completion_tokens FROM runs WHERE id = $1::uuid) AS run_tokens
            FROM records WHERE run_id = $1::uuid
            """, [runID])[0]
        // Each sample got its own choice; the request's 10 tokens are split among its 4 samples.
        #expect(row["texts"].int == 40 && row["n_min"].int == 4 && row["n_max"].int == 4, "\(row)")
        #expect(row["tokens"].int == 100 && row["run_tokens"].int == 100, "\(row)")

        // A server that answers one choice whatever n asks: the other three samples make requests of their own.
        let single = try harness.writeConfig(name: "n-ignored", personas: 10, samples: 4, shardSize: 8, model: ["n: 4"] + (try Self.endpoints(harness, [("one-n", "")])), extra: "dedup:\n  enabled: false")
        let fallback = try await Self.runToCompletion(harness, single, workers: 1, environment: Self.runsOwnEndpoints).counts
        #expect(fallback.kept == 40, "\(fallback)")
        stats = try await Self.stats(harness)
        #expect(stats["one-n"]?.calls == 40, "10 shared requests answered once, 30 on their own: \(stats)")
        await database.close()
    }

    @Test func nSamplesPerRequestAgainstTheRealLocalModel() async throws {
        // The local SmolLM2 (llama.cpp) server: 3 personas × 2 samples, one request per persona for both.
        let harness = try PipelineHarness(llm: nil)
        let config = try harness.writeConfig(
            name: "n-real", personas: 3, samples: 2, shardSize: 6, maxTokens: 12, model: ["n: 2"], extra: "dedup:\n  enabled: false"
        )
        let (runID, counts) = try await Self.runToCompletion(harness, config, workers: 1)
        #expect(counts.records == 6 && counts.failed == 0, "\(counts)")
        let database = try await harness.database()
        let rows = try await database.query("""
            SELECT position, count(*) AS samples, count(DISTINCT text) AS texts, min((sampling->>'n')::int) AS n,
                   sum(completion_tokens) AS completion
            FROM records WHERE run_id = $1::uuid GROUP BY position ORDER BY position
            """, [runID])
        await database.close()
        #expect(rows.count == 3, "\(rows)")
        for row in rows {
            // Both samples came from one request (n = 2) and the server gave each its own text.
            #expect(row["samples"].int == 2 && row["n"].int == 2 && row["texts"].int == 2, "\(row)")
        }
    }

    @Test func aFallbackEndpointServesOnlyWhileThePrimaryIsOut() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let healthy = try harness.writeConfig(name: "primary-up", personas: 60, shardSize: 20, model: try Self.endpoints(harness, [("ok-p", "name: primary"), ("ok-f1", "name: fallback, weight: 0")]))
        #expect(try await Self.runToCompletion(harness, healthy, workers: 1, environment: Self.runsOwnEndpoints).counts.kept == 60)
        var stats = try await Self.stats(harness)
        #expect(stats["ok-p"]?.calls == 60 && stats["ok-f1"] == nil, "\(stats)")

        let down = try harness.writeConfig(name: "primary-down", personas: 60, shardSize: 20, model: try Self.endpoints(harness, [("500-p", "name: primary"), ("ok-f2", "name: fallback, weight: 0")]))
        let counts = try await Self.runToCompletion(harness, down, workers: 1, environment: Self.runsOwnEndpoints).counts
        #expect(counts.kept == 60 && counts.failed == 0, "\(counts)")
        stats = try await Self.stats(harness)
        #expect(stats["ok-f2"]?.calls == 60, "\(stats)")
    }
}
