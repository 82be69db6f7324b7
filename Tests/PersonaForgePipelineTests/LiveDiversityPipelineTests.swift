import Foundation
import PersonaForgeTestSupport
import Testing

/// Live diversity end to end: real coordinator, workers and two reducer processes, then
/// `status`, `evaluate` (with and without embeddings) and `metrics --embeddings`.
@Suite(.serialized) struct LiveDiversityPipelineTests {
    static func metrics(_ json: String) throws -> [String: Double] {
        let line = try #require(json.split(separator: "\n").last { $0.hasPrefix("{") })
        return try JSONDecoder().decode([String: Double].self, from: Data(line.utf8))
    }

    @Test func reducersKeepLiveDiversityThatMatchesEvaluate() async throws {
        let harness = try PipelineHarness(llm: "ok")
        // Three samples per persona; the fixture echoes the prompt, so texts repeat across
        // samples. Dedup is off: with it, a record that an earlier near duplicate (in sample
        // order) reaches after it was folded stays in the live partial (docs/metrics.md),
        // and this test is about exact merging of the reducers' partials.
        let config = try harness.writeConfig(name: "live", personas: 10, samples: 3, shardSize: 4, extra: "dedup:\n  enabled: false")
        let runID = try await harness.submit(config)
        try harness.start(["coordinator"])
        try harness.start(["reducer", "--batch-count", "1"])
        try harness.start(["reducer", "--batch-count", "1"])
        try harness.start(["worker"])
        let counts = try await harness.waitFor(runID, timeout: .seconds(90)) { $0.state == "completed" }
        #expect(counts.records == 30)

        // The reducers write a live snapshot covering every kept record once they go idle.
        let database = try await harness.database()
        let deadline = ContinuousClock.now + .seconds(30)
        var live: [String: Double] = [:]
        while ContinuousClock.now < deadline {
            if let row = try await database.query("""
                SELECT metrics::text AS metrics FROM metric_snapshots
                WHERE run_id = $1::uuid AND NOT is_final AND records_seen = $2 ORDER BY snapshot DESC LIMIT 1
                """, [runID, String(counts.kept)]).first {
                live = try JSONDecoder().decode([String: Double].self, from: Data((row["metrics"].string ?? "").utf8))
                break
            }
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(live["live"] == 1, "no live snapshot with \(counts.kept) records; logs:\n\(harness.log(of: 1).suffix(2000))")
        #expect(live["records"] == Double(counts.kept))
        // Both reducers' partials (or their pending records) were merged into it.
        let partials = try await database.query(
            "SELECT count(DISTINCT reducer) AS n FROM (SELECT reducer FROM diversity_states WHERE run_id = $1::uuid UNION SELECT reducer FROM diversity_pending WHERE run_id = $1::uuid) AS r",
            [runID]).first?["n"].int ?? 0
        #expect(partials >= 1 && partials <= 2)
        #expect(live["live_partials"] == Double(partials))

        // Equal to the exact batch evaluation where the metric does not depend on record order.
        let evaluated = try await harness.run(["evaluate", runID, "--json"])
        #expect(evaluated.status == 0, "\(evaluated.output)")
        let exact = try Self.metrics(evaluated.output)
        for name in ["records", "tokens", "distinct_1", "entropy_1", "self_repetition_score", "homogenization_rougel",
                     "words_mean", "words_p50", "chars_mean", "chars_max"] {
            let (a, b) = (live[name] ?? .nan, exact[name] ?? .nan)
            #expect(abs(a - b) <= 1e-9 * max(1, abs(b)), "\(name): live \(a), evaluate \(b)")
        }
        for name in ["distinct_2", "distinct_4"] {
            let (a, b) = (live[name] ?? .nan, exact[name] ?? .nan)
            #expect(abs(a - b) <= 0.05 * abs(b), "\(name): live \(a), evaluate \(b)")
        }

        var status = try await harness.run(["status", runID])
        #expect(status.output.contains("diversity distinct-1"), "\(status.output)")
        #expect(status.output.contains("(live, \(counts.kept) kept records)"), "\(status.output)")

        // Embedding diversity against a real llama.cpp embedding server, stored as the final snapshot.
        let server = try EmbeddingServer()
        defer { server.stop() }
        let embedded = try await harness.run([
            "evaluate", runID, "--json", "--save", "--embeddings", "--embedding-base-url", server.baseURL,
            "--embedding-model", server.model, "--embedding-sample", "6",
        ], timeout: .seconds(180))
        #expect(embedded.status == 0, "\(embedded.output)")
        let withEmbeddings = try Self.metrics(embedded.output)
        let sampled = withEmbeddings["embedding_sample_size"] ?? 0
        #expect(sampled >= 2 && sampled <= 6)
        #expect(withEmbeddings["embedding_dimensions"] == 576)
        let distance = withEmbeddings["embedding_mean_cosine_distance"] ?? -1
        #expect(distance > 0 && distance < 1)
        let vendi = withEmbeddings["embedding_vendi_score"] ?? 0
        #expect(vendi > 1 && vendi <= sampled + 1e-9)
        status = try await harness.run(["status", runID])
        #expect(status.output.contains("embedding distance"), "\(status.output)")
        #expect(status.output.contains("(final, \(counts.kept) kept records)"), "\(status.output)")

        // A broken embeddings endpoint is a clear error, and nothing is saved.
        let fixture = try #require(harness.fixture)
        let before = try await database.query("SELECT count(*) AS n FROM metric_snapshots WHERE run_id = $1::uuid", [runID]).first?["n"].int
        let broken = try await harness.run(["evaluate", runID, "--save", "--embeddings", "--embedding-base-url", "\(fixture.baseURL)/fault/garbage/v1"])
        #expect(broken.status == 1)
        #expect(broken.output.contains("error: embedding diversity via"), "\(broken.output)")
        #expect(broken.output.contains("not JSON"), "\(broken.output)")
        let missing = try await harness.run(["evaluate", runID, "--embeddings", "--embedding-base-url", "\(fixture.baseURL)/fault/501/v1"])
        #expect(missing.status == 1)
        #expect(missing.output.contains("embedding mode"), "\(missing.output)")
        let after = try await database.query("SELECT count(*) AS n FROM metric_snapshots WHERE run_id = $1::uuid", [runID]).first?["n"].int
        #expect(before == after)
        await database.close()
    }

    @Test func metricsCommandMeasuresEmbeddingsOfAFile() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let fixture = try #require(harness.fixture)
        let input = harness.directory.appendingPathComponent("texts.jsonl").path
        let lines = ["a river in the north", "fractions of a cake", "a river in the north", "teachers explain music", ""]
            .map { $0.isEmpty ? "" : "{\"text\": \"\($0)\"}" }
        try lines.joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let result = try await harness.run([
            "metrics", "--input", input, "--json", "--embeddings", "--embedding-base-url", "\(fixture.baseURL)/fault/ok/v1", "--embedding-sample", "10",
        ])
        #expect(result.status == 0, "\(result.output)")
        let metrics = try Self.metrics(result.output)
        #expect(metrics["records"] == 4)
        #expect(metrics["embedding_sample_size"] == 4)
        #expect(metrics["embedding_dimensions"] == 8)
        // Two identical texts among four: fewer than four effective items.
        let vendi = metrics["embedding_vendi_score"] ?? 0
        #expect(vendi > 1 && vendi < 4)
        let invalid = try await harness.run(["metrics", "--input", input, "--embeddings", "--embedding-sample", "1"])
        #expect(invalid.status != 0)
        #expect(invalid.output.contains("--embedding-sample must be at least 2"), "\(invalid.output)")
    }
}
