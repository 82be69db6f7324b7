import ArgumentParser
import Foundation
import PersonaForgeCore

/// `personaforge metrics --input FILE.jsonl --field text [--json]`: streams a
/// JSONL file and prints its text-diversity metrics (docs/metrics.md).
struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Measure the diversity of the texts in a JSONL file (distinct-n, entropy, compression ratio, ...).",
        discussion: """
            Reads one JSON object per line and measures the string in --field. Blank lines are \
            skipped. Metric definitions and their exactness limits: docs/metrics.md.
            Exit status: 0 on success, 2 on unreadable input (printed to standard error as \
            FILE:LINE: message; nothing is printed to standard output).
            """
    )

    @Option(help: "The JSONL file to read, or - for standard input.")
    var input: String

    @Option(help: "The field of each JSON object that holds the text.")
    var field: String = "text"

    @Flag(help: "Print one JSON object of metric name → value instead of a table.")
    var json = false

    @Option(help: "Records sampled for the ROUGE-L homogenization score.")
    var homogenizationSample: Int = DiversityConfiguration().homogenizationSampleSize

    @Option(help: "Distinct n-grams per order counted exactly before sketches take over.")
    var exactLimit: Int = DiversityConfiguration().exactNGramLimit

    @Option(help: "Seed of the record samples.")
    var seed: UInt64 = 0

    @OptionGroup var embedding: EmbeddingOptions

    func validate() throws {
        guard homogenizationSample >= 0 else { throw ValidationError("--homogenization-sample must be at least 0") }
        guard exactLimit >= 1 else { throw ValidationError("--exact-limit must be at least 1") }
    }

    func run() async throws {
        // The LLM connection variables (PERSONAFORGE_LLM_*) are the embedding endpoint's fallback.
        let embeddingEndpoint = embedding.embeddings ? try embedding.endpoint(connections: try ConnectionOptions.parse([])) : nil
        var sampler = embedding.sampler()
        var configuration = DiversityConfiguration()
        configuration.homogenizationSampleSize = homogenizationSample
        configuration.exactNGramLimit = exactLimit
        configuration.selfRepetitionNGramLimit = exactLimit
        configuration.seed = seed
        var accumulator = DiversityAccumulator(configuration: configuration)
        do {
            var extractor = JSONLinesTextExtractor(path: input, field: field)
            var reader = try openReader()
            while let line = try readLine(&reader, number: extractor.lineNumber + 1) {
                if let text = try extractor.text(fromLine: line) {
                    accumulator.add(text)
                    if embeddingEndpoint != nil { sampler.offer(text) }
                }
            }
        } catch {
            FileHandle.standardError.write(Data("\(error.description)\n".utf8))
            throw ExitCode(2)
        }
        var metrics = accumulator.snapshot()
        try await embedding.addMeasurement(of: sampler, via: embeddingEndpoint, to: &metrics)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(metrics), as: UTF8.self))
        } else {
            print(MetricsTable(metrics: metrics, source: input == "-" ? "standard input" : input, field: field).text, terminator: "")
        }
    }

    private func openReader() throws(MetricsInputError) -> LineReader {
        do {
            return try LineReader(path: input)
        } catch {
            throw MetricsInputError(location: input, message: "\(error)")
        }
    }

    private func readLine(_ reader: inout LineReader, number: Int) throws(MetricsInputError) -> ArraySlice<UInt8>? {
        do {
            return try reader.withNextLine { ArraySlice(Array($0)) }
        } catch {
            throw MetricsInputError(location: "\(input):\(number)", message: "read failed: \(error)")
        }
    }
}
