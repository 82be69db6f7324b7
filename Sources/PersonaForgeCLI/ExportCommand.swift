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
        var lastPosition = "-1"
        var lastSample = "-1"
        var written = 0
        while true {
            let rows = try await database.query("""
                SELECT json_build_object(
                    'run_id', run_id, 'position', position, 'sample', sample, 'sample_position', sample_position,
                    'status', status, 'text', text, 'condition', condition, 'steps', steps, 'model', model,
                    'sampling', sampling, 'finish_reason', finish_reason, 'prompt_tokens', prompt_tokens,
                    'completion_tokens', completion_tokens, 'prompt_hash', prompt_hash, 'reject_reason', reject_reason,
                    'reject_detail', reject_detail, 'worker', worker, 'attempt', attempt, 'latency_ms', latency_ms,
                    'created_at', created_at)::text AS line, position, sample
                FROM records
                WHERE run_id = $1::uuid AND ($2 = 'all' OR status = $2) AND (position, sample) > ($3::bigint, $4::int)
                ORDER BY position, sample LIMIT 1000
                """, [summary.id, status, lastPosition, lastSample])
            if rows.isEmpty { break }
            var chunk = ""
            for row in rows { chunk += (row["line"].string ?? "{}") + "\n" }
            handle.write(Data(chunk.utf8))
            written += rows.count
            lastPosition = rows.last?["position"].string ?? lastPosition
            lastSample = rows.last?["sample"].string ?? lastSample
        }
        if let temporary {
            try handle.close()
            _ = try? FileManager.default.removeItem(atPath: output)
            try FileManager.default.moveItem(atPath: temporary, toPath: output)
        }
        printToStandardError("exported \(written) \(status == "all" ? "" : status + " ")records of run \(summary.id) to \(output)")
    }
}
