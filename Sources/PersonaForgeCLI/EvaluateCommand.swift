import ArgumentParser
import Foundation
import PersonaForgeCore
import PersonaForgeStore

/// `personaforge evaluate RUN`: the diversity of a run's kept records, measured from
/// PostgreSQL with the same metrics as `personaforge metrics`.
struct EvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure the diversity of a run's kept records (streamed from PostgreSQL) and optionally store the snapshot.",
        discussion: """
            Streams the kept texts in pages of 1,000 (constant memory apart from the metric \
            sketches; exactness limits in docs/metrics.md). With --save the result is stored in \
            metric_snapshots (marked final when the run has completed), where status and reports read it.
            With --embeddings it also embeds a deterministic sample of the kept records through \
            /v1/embeddings and adds embedding_mean_cosine_distance and embedding_vendi_score.
            """
    )

    @OptionGroup var connections: ConnectionOptions
    @OptionGroup var service: ServiceOptions

    @Argument(help: "Run id or unique prefix.")
    var run: String

    @Flag(help: "Print one JSON object of metric name → value instead of a table.")
    var json = false

    @Flag(help: "Store the snapshot in metric_snapshots.")
    var save = false

    @OptionGroup var embedding: EmbeddingOptions

    func run() async throws {
        let database = try await connections.openDatabase(logger: service.logger("personaforge.evaluate"))
        guard let summary = try await RunRepository(connection: database).summary(id: run) else {
            printToStandardError("error: no run '\(run)' (or the prefix matches several)")
            throw ExitCode(1)
        }
        // Resolved before the scan, so a bad key file fails fast.
        let embeddingEndpoint = embedding.embeddings ? try embedding.endpoint(connections: connections) : nil
        var accumulator = DiversityAccumulator(configuration: DiversityConfiguration())
        var sampler = embedding.sampler()
        var count = 0
        let sampling = embedding.embeddings
        try await RunRepository(connection: database).forEachPage(of: summary.id, status: "kept", columns: "text") { rows in
            for row in rows {
                let text = row["text"].string ?? ""
                accumulator.add(text)
                if sampling { sampler.offer(text) }
            }
            count += rows.count
        }
        var metrics = accumulator.snapshot()
        try await embedding.addMeasurement(of: sampler, via: embeddingEndpoint, to: &metrics)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let encoded = String(decoding: try encoder.encode(metrics), as: UTF8.self)
        if save {
            try await database.execute(
                "INSERT INTO metric_snapshots (run_id, records_seen, is_final, metrics) VALUES ($1::uuid, $2, $3, $4::jsonb)",
                [summary.id, String(count), summary.state == .completed ? "true" : "false", encoded]
            )
        }
        if json {
            print(encoded)
        } else {
            print(MetricsTable(metrics: metrics, source: "run \(summary.id) (\(count) kept records)", field: "text").text, terminator: "")
        }
    }
}
