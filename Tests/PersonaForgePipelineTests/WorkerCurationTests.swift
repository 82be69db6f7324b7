import Foundation
import PersonaForgeCore
import Testing

/// Workers curate through `OutputCurator`, the path docs/curation.md describes and the
/// Core tests cover: a real coordinator, worker and reducer against the fixture LLM
/// (which answers "echo: " and the prompt).
@Suite(.serialized) struct WorkerCurationTests {
    static func config(in harness: PipelineHarness, name: String, user: String, extra: String) throws -> String {
        let yaml = """
            name: \(name)
            seed: 5
            shard_size: 2
            axes:
              - name: persona
                source:
                  values: ["p1", "p2"]
            model:
              max_tokens: 16
            steps:
              - name: items
                user: '\(user)'
                output: json
            \(extra)
            dedup:
              enabled: false
            """
        let path = harness.directory.appendingPathComponent("\(name).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Repetition is measured on a JSON output's string values, not on the raw JSON
    /// whose repeated keys look like repeated n-grams (the worker used to filter the raw
    /// text and reject this), and schema violations past the third say how many more.
    @Test func jsonOutputsAreCuratedOnTheirValuesAndViolationsAreCounted() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let objects = ["alpha one", "beta two", "gamma three", "delta four"].enumerated().map { index, words in
            #"{"first key": "{{persona}} \#(words) a\#(index)", "second key": "b\#(index) c\#(index)", "third key": "d\#(index) e\#(index)"}"#
        }
        let repeatedKeys = try Self.config(
            in: harness, name: "curation-values", user: #"{"items": ["# + objects.joined(separator: ", ") + "]}",
            extra: "filters:\n  max_repeated_ngram_ratio: 0.1\n  repetition_ngram: 2")
        // What the old worker path measured: the raw echoed JSON, whose keys repeat.
        let raw = "echo: " + #"{"items": ["# + objects.joined(separator: ", ").replacingOccurrences(of: "{{persona}}", with: "p1") + "]}"
        #expect(try #require(RepetitionMetric.repeatedNgramRatio(of: raw, n: 2)) > 0.1)
        let schema = """
            filters:
              max_repeated_ngram_ratio: null
            """
        let violations = try Self.config(
            in: harness, name: "curation-schema", user: #"{"name": "{{persona}}"}"#,
            extra: schema)
        // Five required properties are missing: three are quoted, "and 2 more" counts the rest.
        let schemaYAML = try String(contentsOfFile: violations, encoding: .utf8).replacingOccurrences(of: "    output: json", with: """
                output: json
                json_schema:
                  type: object
                  required: [a, b, c, d, e]
            """)
        try schemaYAML.write(toFile: violations, atomically: true, encoding: .utf8)

        let first = try await harness.submit(repeatedKeys)
        let second = try await harness.submit(violations)
        _ = try harness.start(["coordinator"])
        _ = try harness.start(["reducer"])
        _ = try harness.start(["worker", "--concurrency", "2"])
        let kept = try await harness.waitFor(first) { $0.records == 2 && $0.state == "completed" }
        #expect(kept.kept == 2, "the raw JSON's repeated keys must not count as repetition")
        let filtered = try await harness.waitFor(second) { $0.records == 2 && $0.state == "completed" }
        #expect(filtered.filtered == 2)
        let database = try await harness.database()
        let details = try await database.query("SELECT reject_reason, reject_detail FROM records WHERE run_id = $1::uuid", [second])
        await database.close()
        for row in details {
            #expect(row["reject_reason"].string == "schema_violation")
            #expect(row["reject_detail"].string?.hasSuffix("; and 2 more") == true, "\(row["reject_detail"].string ?? "nil")")
        }
    }
}
