import ArgumentParser
import Foundation
import PersonaForgeStore

/// `personaforge export RUN --output FILE.jsonl[.gz] [--status kept,...] [--card README.md]`
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a run's records (kept by default) with provenance as JSONL (optionally gzip), and a dataset card.",
        discussion: """
            Reads in pages of 1,000 keyed by (position, sample): memory stays constant whatever the run \
            size. The file is written to a temporary file and renamed into place, so it appears complete \
            or not at all; an existing file is refused unless --force. Next to it goes a dataset card \
            (README.md in the Hugging Face Hub format: YAML front matter, run config, counts, metrics, \
            coverage, generation details, limitations) unless --no-card; set its license before publishing.
            """
    )

    @OptionGroup var connections: ConnectionOptions
    @OptionGroup var service: ServiceOptions

    @Argument(help: "Run id or unique prefix.")
    var run: String

    @Option(name: .shortAndLong, help: "Output file ('-' for standard output). A name ending in .gz is gzip-compressed.")
    var output: String

    @Option(help: ArgumentHelp("Which records: a comma-separated list of kept, filtered, failed, duplicate, or all.", valueName: "statuses"))
    var status: String = "kept"

    @Flag(help: "Compress the output with gzip (implied by an output name ending in .gz).")
    var gzip = false

    @Flag(help: "Replace the output file and the dataset card if they exist.")
    var force = false

    @Option(help: ArgumentHelp("Where to write the dataset card (default: README.md next to the output; none for standard output).", valueName: "path"))
    var card: String?

    @Flag(help: "Do not write a dataset card.")
    var noCard = false

    @Option(help: ArgumentHelp("Language codes for the dataset card, comma-separated.", valueName: "codes"))
    var language: String = "en"

    /// The statuses `--status` selects, in canonical order.
    static func statuses(_ option: String) throws -> [String] {
        let names = option.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if names == ["all"] { return RunRepository.recordStatuses }
        guard !names.isEmpty else { throw ValidationError("--status needs at least one of kept, filtered, failed, duplicate (or all)") }
        for name in names where !RunRepository.recordStatuses.contains(name) {
            throw ValidationError("--status: unknown status '\(name)'; records are kept, filtered, failed or duplicate (or give all)")
        }
        return RunRepository.recordStatuses.filter(names.contains)
    }

    func validate() throws {
        _ = try Self.statuses(status)
        if noCard && card != nil { throw ValidationError("--card and --no-card contradict each other; give one") }
        if language.split(separator: ",").isEmpty { throw ValidationError("--language needs at least one language code, e.g. en") }
    }

    /// The card's path: `--card`, else README.md in the output's directory (none for standard output).
    var cardPath: String? {
        if noCard { return nil }
        if let card { return card }
        if output == "-" { return nil }
        let directory = (output as NSString).deletingLastPathComponent
        return directory.isEmpty ? "README.md" : (directory as NSString).appendingPathComponent("README.md")
    }

    /// The export's path as the card refers to it: relative to the card's directory when
    /// it lies below it, else its file name (upload the two side by side).
    static func dataFile(output: String, card: String) -> String {
        let base = FileManager.default.currentDirectoryPath
        func absolute(_ path: String) -> String {
            ((path.hasPrefix("/") ? path : (base as NSString).appendingPathComponent(path)) as NSString).standardizingPath
        }
        let directory = (absolute(card) as NSString).deletingLastPathComponent
        let file = absolute(output)
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return file.hasPrefix(prefix) ? String(file.dropFirst(prefix.count)) : (output as NSString).lastPathComponent
    }

    func run() async throws {
        let statuses = try Self.statuses(status)
        let compress = gzip || output.hasSuffix(".gz")
        let destinations: (data: OutputDestination, card: OutputDestination?)
        do {
            let data = try OutputDestination.check(output, force: force, what: "export")
            let card = try cardPath.map { path throws(ExportError) in
                guard (path as NSString).standardizingPath != (output as NSString).standardizingPath else {
                    throw ExportError("the dataset card would overwrite the export '\(output)'; give --card another path")
                }
                return try OutputDestination.check(path, force: force, what: "dataset card")
            }
            destinations = (data, card)
        } catch {
            printToStandardError("error: \(error)")
            throw ExitCode(1)
        }
        let database = try await connections.openDatabase(logger: service.logger("personaforge.export"))
        let runs = RunRepository(connection: database)
        guard let summary = try await runs.summary(id: run) else {
            printToStandardError("error: no run '\(run)' (or the prefix matches several); list runs with `personaforge runs list`")
            throw ExitCode(1)
        }
        // Run-level provenance at the front of every line (the rest is built by PostgreSQL).
        let encoder = JSONEncoder()
        let prefix = "{\"run_name\":" + String(decoding: try encoder.encode(summary.name), as: UTF8.self)
            + ",\"config_hash\":" + String(decoding: try encoder.encode(summary.configHash), as: UTF8.self) + ","
        var written: Int64 = 0
        do {
            let file = try ExportFile(destinations.data, gzip: compress)
            try await runs.forEachPage(of: summary.id, statuses: statuses, columns: """
                json_build_object(
                    'run_id', run_id, 'position', position, 'sample', sample, 'sample_position', sample_position,
                    'status', status, 'text', text, 'condition', condition, 'steps', steps, 'model', model,
                    'sampling', sampling, 'finish_reason', finish_reason, 'prompt_tokens', prompt_tokens,
                    'completion_tokens', completion_tokens, 'prompt_hash', prompt_hash, 'judge_score', judge_score,
                    'reject_reason', reject_reason, 'reject_detail', reject_detail, 'duplicate_of_run_id', duplicate_of_run_id,
                    'duplicate_of_position', duplicate_of_position, 'duplicate_of_sample', duplicate_of_sample,
                    'worker', worker, 'attempt', attempt, 'latency_ms', latency_ms, 'cost', cost, 'created_at', created_at)::text AS line
                """) { rows in
                var chunk = ""
                for row in rows {
                    let line = row["line"].string ?? "{}"
                    chunk += prefix + line.dropFirst() + "\n"
                }
                try file.write(chunk)
                written += Int64(rows.count)
            }
            try file.commit()
        } catch let error as ExportError {
            printToStandardError("error: \(error)")
            throw ExitCode(1)
        }
        let what = statuses == RunRepository.recordStatuses ? "" : statuses.joined(separator: "/") + " "
        printToStandardError("exported \(written) \(what)records of run \(summary.id) to \(output)\(compress ? " (gzip)" : "")")

        guard let cardDestination = destinations.card else { return }
        var options = RunReportQueries.Options()
        options.charts = false
        let report = try await RunReportQueries(connection: database).report(for: summary, options: options)
        let card = DatasetCard(
            report: report,
            dataFile: output == "-" ? "data.jsonl" : Self.dataFile(output: output, card: cardDestination.path),
            exported: written, statuses: statuses,
            languages: language.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
            generatedAt: ISO8601DateFormatter().string(from: Date())
        )
        do {
            let file = try ExportFile(cardDestination, gzip: false)
            try file.write(card.markdown)
            try file.commit()
        } catch {
            printToStandardError("error: \(error)")
            throw ExitCode(1)
        }
        printToStandardError("wrote the dataset card to \(cardDestination.path); set its license (front matter) before publishing")
    }
}
