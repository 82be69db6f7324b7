import Foundation
import Logging
import PersonaForgePostgres
import PersonaForgeStore
import PersonaForgeTestSupport

/// The reducer's COPY (`PostgresConnection.copy`, libpq `PQputCopyData` in 256 KiB
/// chunks) against `psql \copy` of the same rows from a file, side by side in one
/// invocation (issue 14): the same columns of `records` a result batch fills, into
/// an unlogged copy of the table that is truncated before each round.
///
///     personaforge-bench --copy 100000 [--database-url URL] [--rounds 3] [--words 80] [--psql PATH]
struct CopyBenchmark {
    var rows: Int
    var rounds: Int
    var words: Int
    var databaseURL: String
    var psql: String

    struct Row: CustomStringConvertible {
        var round: Int
        var tool: String
        var seconds: Double
        var clientCPU: Double
        var serverCPU: Double
        var rowCount: Int

        var description: String {
            String(round).padding(toLength: 7, withPad: " ", startingAt: 0) + tool.padding(toLength: 20, withPad: " ", startingAt: 0)
                + String(format: "%10.3f%12.0f%16.2f%16.2f", seconds, Double(rowCount) / seconds,
                         clientCPU / Double(rowCount) * 1e6, serverCPU / Double(rowCount) * 1e6)
        }
    }

    static let columns = RecordWriter.columns

    /// Rows like a result batch's: an 80-word text, the JSON columns, the counters.
    func makeRows() -> [[String?]] {
        let vocabulary = ["river", "persona", "teacher", "asks", "about", "mountains", "while", "the", "music", "of", "ships",
                          "north", "curious", "students", "fractions", "old", "a", "and", "explains", "who"]
        let run = "00000000-0000-4000-8000-000000000042"
        var generator: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<rows).map { i in
            let text = (0..<words).map { _ in
                generator = generator &* 6364136223846793005 &+ 1442695040888963407
                return vocabulary[Int(generator >> 33) % vocabulary.count]
            }.joined(separator: " ")
            return [
                run, String(i), "0", String(i),
                "[{\"axis\":\"persona\",\"index\":\(i % 5000),\"value\":{\"text\":\"A nurse from Lagos who loves chess (#\(i % 5000))\"}},{\"axis\":\"topic\",\"index\":\(i % 200),\"value\":{\"text\":\"topic number \(i % 200)\"}}]",
                String(format: "%016llx", UInt64(i) &* 0x9E37_79B9_7F4A_7C15), text,
                "[{\"name\":\"text\",\"text\":\"\(text)\"}]", "{\"max_tokens\":200,\"seed\":\(i)}",
                "stub", "stop", "42", "120", "kept", nil, nil, "worker-1", "1", "3", "5.4e-05",
            ]
        }
    }

    /// The rows in COPY text format (the generated values hold no tab, newline or backslash).
    static func copyText(_ rows: [[String?]]) -> String {
        var out = ""
        out.reserveCapacity(rows.count * 1200)
        for row in rows {
            out += row.map { $0 ?? "\\N" }.joined(separator: "\t")
            out += "\n"
        }
        return out
    }

    func run() async throws -> [Row] {
        var logger = Logger(label: "personaforge-bench")
        logger.logLevel = .warning
        let connection = try await PostgresConnection.connect(to: databaseURL, logger: logger)
        try await PersonaForgeSchema.migrate(connection, logger: logger)
        try await connection.execute("DROP TABLE IF EXISTS pf_bench_copy")
        try await connection.execute("CREATE UNLOGGED TABLE pf_bench_copy (LIKE records INCLUDING DEFAULTS)")
        let data = makeRows()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pf-bench-copy-\(getpid()).tsv")
        try Self.copyText(data).write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        guard let postmaster = ProcessCPU.parent(of: pid_t(try await connection.backendProcessID())) else {
            throw TestSupportError("cannot find the PostgreSQL server's processes (is it on another machine?)")
        }
        let columnList = Self.columns.joined(separator: ", ")
        // Live server processes plus those that exited (psql's backend ends with it).
        func serverCPU() -> Double {
            ProcessCPU.seconds(ofTree: postmaster) + (ProcessCPU.seconds(of: postmaster, children: true) ?? 0) - (ProcessCPU.seconds(of: postmaster) ?? 0)
        }
        // This process's CPU, or that of its reaped children (psql).
        func clientCPU(children: Bool) -> Double {
            var usage = rusage()
            getrusage(children ? RUSAGE_CHILDREN.rawValue : RUSAGE_SELF.rawValue, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        var results: [Row] = []
        for round in 1...rounds {
            for tool in ["PostgresConnection", "psql \\copy"] {
                try await connection.execute("TRUNCATE pf_bench_copy")
                let viaPsql = tool != "PostgresConnection"
                let serverBefore = serverCPU()
                let clientBefore = clientCPU(children: viaPsql)
                let start = Stopwatch.now()
                if viaPsql {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: psql)
                    process.arguments = [databaseURL, "-v", "ON_ERROR_STOP=1", "-qc", "\\copy pf_bench_copy (\(columnList)) FROM '\(file.path)'"]
                    try process.run()
                    process.waitUntilExit()
                    guard process.terminationStatus == 0 else { throw TestSupportError("psql exited with \(process.terminationStatus)") }
                } else {
                    try await connection.copy(into: "pf_bench_copy", columns: Self.columns, rows: data)
                }
                let seconds = Stopwatch.now() - start
                let client = clientCPU(children: viaPsql) - clientBefore
                let server = serverCPU() - serverBefore
                let count = try await connection.query("SELECT count(*)::int AS n FROM pf_bench_copy").first?["n"].int ?? 0
                guard count == rows else { throw TestSupportError("\(tool) stored \(count) of \(rows) rows") }
                results.append(Row(round: round, tool: tool, seconds: seconds, clientCPU: client, serverCPU: server, rowCount: count))
            }
        }
        try await connection.execute("DROP TABLE pf_bench_copy")
        await connection.close()
        return results
    }
}
