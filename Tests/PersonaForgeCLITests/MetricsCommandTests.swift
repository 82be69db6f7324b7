import Foundation
import Testing

@Suite("personaforge metrics (runs the built executable)")
struct MetricsCommandTests {
    static let expectedKeys = [
        "records", "tokens", "distinct_1", "distinct_2", "distinct_3", "distinct_4", "ngram_diversity_score",
        "entropy_1", "entropy_4", "compression_ratio", "self_repetition_score", "homogenization_rougel",
        "words_mean", "words_p99", "chars_stddev", "exact_ngrams",
    ]

    @Test func jsonOutputIsOneObjectWithEveryMetric() throws {
        let path = try MetricsCLI.temporaryFile("""
            {"id": 1, "text": "the cat sat on the mat"}

            {"id": 2, "text": "the dog sat on the log", "extra": [1, 2]}\r

            """)
        let result = try MetricsCLI.run(["metrics", "--input", path, "--field", "text", "--json"])
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Double]
        let metrics = try #require(object, "not one JSON object of numbers: \(result.standardOutput)")
        for key in Self.expectedKeys {
            #expect(metrics[key] != nil, "missing \(key)")
        }
        #expect(metrics["records"] == 2)
        #expect(abs(metrics["distinct_1", default: -1] - 7.0 / 12) < 1e-12)
        #expect(abs(metrics["compression_ratio", default: -1] - 45.0 / 77) < 1e-12) // JSON round trip: not bit-exact
    }

    @Test func readsStandardInputAndPrintsATable() throws {
        let result = try MetricsCLI.run(["metrics", "--input", "-", "--field", "persona"],
                                        standardInput: "{\"persona\": \"a nurse\"}\n{\"persona\": \"a chef\"}")
        #expect(result.status == 0, "stderr: \(result.standardError)")
        #expect(result.standardOutput.contains("distinct_1"))
        #expect(result.standardOutput.contains("records"))
    }

    @Test(arguments: [
        ("{\"text\": \"ok\"}\n{\"text\": \"fine\"}\n{\"text\": oops}\n", ":3:", "invalid JSON"),
        ("{\"text\": \"ok\"}\n{\"body\": \"no text\"}\n", ":2:", "no field 'text' (the object has 'body')"),
        ("{\"text\": 42}\n", ":1:", "field 'text' is a number, expected a string"),
        ("{\"text\": null}\n", ":1:", "is null"),
        ("[\"text\"]\n", ":1:", "expected a JSON object, found an array"),
        ("{\"text\": \"ok\"}\n\n\n{\"text\": \"unterminated\n", ":4:", "invalid JSON"),
    ])
    func hostileInputFailsWithTheLineNumber(input: String, location: String, message: String) throws {
        let path = try MetricsCLI.temporaryFile(input)
        let result = try MetricsCLI.run(["metrics", "--input", path, "--field", "text", "--json"])
        #expect(result.status == 2)
        #expect(result.standardOutput.isEmpty)
        #expect(result.standardError.contains(path + location), "stderr: \(result.standardError)")
        #expect(result.standardError.contains(message), "stderr: \(result.standardError)")
    }

    @Test func missingFileIsAnActionableError() throws {
        let result = try MetricsCLI.run(["metrics", "--input", "/nonexistent/personaforge.jsonl", "--json"])
        #expect(result.status == 2)
        #expect(result.standardError.contains("/nonexistent/personaforge.jsonl: cannot open"))
    }
}
