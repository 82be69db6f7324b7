import ArgumentParser
import Foundation
import PersonaForgeStore

/// `personaforge export RUN --output FILE.jsonl`
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a run's records (kept by default) with provenance as JSONL, streaming.",
        discussion: "Reads in pages of 1,000 keyed by (position, sample): memory stays constant whatever the run size. The file appears complete or not at all."
    )

    @OptionGroup var connections: ConnectionOptions
    @OptionGroup var service: ServiceOptions

    @Argument(help: "Run id or unique prefix.")
    var run: String

    @Option(name: .shortAndLong, help: "Output file ('-' for standard output).")
    var output: String

    @Option(help: "Which records: kept, filtered, failed, duplicate or all.")
    var status: String = "kept"

    func run() async throws {
        guard ["kept", "filtered", "failed", "duplicate", "all"].contains(status) else {
            throw ValidationError("--status must be kept, filtered, failed, duplicate or all")
        }
        let database = try await connections.openDatabase(logger: service.logger("personaforge.export"))
        guard let summary = try await RunRepository(connection: database).summary(id: run) else {
            printToStandardError("error: no run '\(run)' (or the prefix matches several)")
            throw ExitCode(1)
        }
        let temporary = output == "-" ? nil : output + ".partial-\(getpid())"
        guard let handle = temporary.map({ path -> FileHandle? in
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }) ?? FileHandle.standardOutput else {
            printToStandardError("error: cannot write '\(output)'")
            throw ExitCode(1)
        }
        var written = 0
        try await RunRepository(connection: database).forEachPage(of: summary.id, status: status == "all" ? nil : status, columns: """
            json_build_object(
                'run_id', run_id, 'position', position, 'sample', sample, 'sample_position', sample_position,
                'status', status, 'text', text, 'condition', condition, 'steps', steps, 'model', model,
                'sampling', sampling, 'finish_reason', finish_reason, 'prompt_tokens', prompt_tokens,
                'completion_tokens', completion_tokens, 'prompt_hash', prompt_hash, 'reject_reason', reject_reason,
                'reject_detail', reject_detail, 'duplicate_of_run_id', duplicate_of_run_id,
                'duplicate_of_position', duplicate_of_position, 'duplicate_of_sample', duplicate_of_sample,
                'worker', worker, 'attempt', attempt, 'latency_ms', latency_ms, 'created_at', created_at)::text AS line
            """) { rows in
            handle.write(Data(rows.map { ($0["line"].string ?? "{}") + "\n" }.joined().utf8))
            written += rows.count
        }
        if let temporary {
            try handle.close()
            _ = try? FileManager.default.removeItem(atPath: output)
            try FileManager.default.moveItem(atPath: temporary, toPath: output)
        }
        printToStandardError("exported \(written) \(status == "all" ? "" : status + " ")records of run \(summary.id) to \(output)")
    }
}
