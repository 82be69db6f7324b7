import Foundation
import Logging
import PersonaForgeCore
import PersonaForgePostgres
import PersonaForgeQueue
import PersonaForgeRedis
import PersonaForgeStore
import PersonaForgeTestSupport

/// A soak run (issue 16): the fleet of ``EndToEndBenchmark`` (coordinator, reducers and
/// workers as separate `personaforge` processes, `personaforge-stub`, a private
/// redis-server with its append-only file, the PostgreSQL of `databaseURL`) kept at full
/// speed for `minutes`, runs of `records` records (dedup on) submitted one after the
/// other, while every `killEvery` seconds (± half, seeded) a random role gets SIGKILL and
/// is started again 2 s later, as Kubernetes restarts a pod.
///
/// Every 10 s it samples Redis `used_memory`, the database's size, and every process's
/// resident memory; they go to `soak.csv` and `soak.svg` in `output`. Each run must end
/// completed with exact accounting: one record per sample, the run's counters equal to
/// its records' statuses, no dead shard, and the duplicates those of the sequential rule.
struct SoakBenchmark {
    var databaseURL: String
    var minutes: Double
    var records: Int
    var killEvery: Double
    var workers: Int
    var reducers: Int
    var concurrency: Int
    var seed: UInt64
    var output: URL
    var binaries: URL

    struct Sample {
        var seconds: Double
        var stored: Int64
        var redisBytes: Int
        var databaseBytes: Int64
        /// Resident bytes by role: the largest process of each role.
        var resident: [String: Int]
        var resultBatches: Int
    }

    struct RunCheck {
        var runID: String
        var samples: Int64
        var records: Int64
        var distinctKeys: Int64
        var countersMatch: Bool
        var deadShards: Int64
        var matchesSequentialRule: Bool
        var seconds: Double
        var exact: Bool { records == samples && distinctKeys == samples && countersMatch && deadShards == 0 && matchesSequentialRule }
    }

    struct Outcome {
        var samples: [Sample] = []
        var runs: [RunCheck] = []
        var kills: [String: Int] = [:]
        var seconds: Double = 0
    }

    static let roleNames = ["coordinator", "reducer", "worker"]

    func run(progress: (String) -> Void) async throws -> Outcome {
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let directory = output.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let personaforge = binaries.appendingPathComponent("personaforge").path
        let stubPath = binaries.appendingPathComponent("personaforge-stub").path
        for path in [personaforge, stubPath] where !FileManager.default.isExecutableFile(atPath: path) {
            throw TestSupportError("\(path) not found: build it first (swift build -c release)")
        }
        let stubPort = try Loopback.freePort()
        let stub = try ChildProcess([stubPath, "--port", String(stubPort), "--words", "80", "--near-duplicate-percent", "20"],
                                    logPath: directory.appendingPathComponent("stub.log").path)
        defer { _ = stub.terminate(signal: SIGKILL) }
        try Loopback.waitUntilListening(port: stubPort)
        let redis = try RedisServerProcess(persistent: true)

        let environment = EndToEndBenchmark.roleEnvironment(redisURL: redis.url, databaseURL: databaseURL, stubPort: stubPort)
        _ = try EndToEndBenchmark.command(personaforge, ["migrate"], environment: environment, directory: directory)
        try EndToEndBenchmark.writeInputs(in: directory, personasFile: nil)

        // The fleet: each slot is one role, restarted in place after a kill.
        var slots: [(role: String, arguments: [String], process: ChildProcess)] = []
        var incarnations = 0
        func launch(_ role: String, _ arguments: [String]) throws -> ChildProcess {
            incarnations += 1
            return try ChildProcess([personaforge] + arguments, environment: environment,
                                    logPath: directory.appendingPathComponent("\(role)-\(incarnations).log").path)
        }
        for (role, arguments) in [("coordinator", ["coordinator"])]
            + Array(repeating: ("reducer", ["reducer"]), count: reducers)
            + Array(repeating: ("worker", ["worker", "--concurrency", String(concurrency)]), count: workers) {
            slots.append((role, arguments, try launch(role, arguments)))
        }
        defer { for slot in slots { _ = slot.process.terminate(signal: SIGKILL) } }

        let (connection, repository, queue, layout) = try await EndToEndBenchmark.observer(databaseURL: databaseURL, redisURL: redis.url)

        var outcome = Outcome()
        var generator = SplitMix64(state: seed)
        func uniform() -> Double { Double(generator.next() >> 11) / Double(1 << 53) }
        let start = Stopwatch.now()
        let end = start + minutes * 60
        var nextKill = start + killEvery * (0.5 + uniform())
        var nextSample = start
        var storedBefore: Int64 = 0
        var runNumber = 0

        func submit() throws -> (id: String, at: Double) {
            runNumber += 1
            let path = directory.appendingPathComponent("soak-\(runNumber).yaml").path
            try EndToEndBenchmark.configYAML(name: "soak-\(runNumber)", dedup: true, records: records, shardSize: 100)
                .write(toFile: path, atomically: true, encoding: .utf8)
            let output = try EndToEndBenchmark.command(personaforge, ["submit", "--new", path], environment: environment, directory: directory)
            return (output.split(separator: "\n").last.map(String.init) ?? "", Stopwatch.now())
        }
        var current = try submit()
        progress("run \(current.id) submitted: \(records) records")
        while true {
            let now = Stopwatch.now()
            let summary = try await repository.summary(id: current.id)
            guard let summary else { throw TestSupportError("run \(current.id) is not in the database") }
            if summary.state == .completed {
                let check = try await Self.check(runID: current.id, seconds: now - current.at, connection: connection)
                outcome.runs.append(check)
                storedBefore += check.records
                progress(String(format: "run %@ completed in %.0f s: %lld records, exact accounting: %@", check.runID, check.seconds, check.records,
                                check.exact ? "yes" : "NO"))
                if now >= end { break }
                current = try submit()
            } else if !summary.state.isActive {
                throw TestSupportError("run \(current.id) ended \(summary.state.rawValue) (logs in \(directory.path))")
            }
            if now < end && now >= nextKill {
                let index = Int(generator.next() % UInt64(slots.count))
                let slot = slots[index]
                let pid = slot.process.pid ?? -1
                _ = slot.process.terminate(signal: SIGKILL)
                outcome.kills[slot.role, default: 0] += 1
                progress(String(format: "%.0f s: kill -9 %@ (pid %d)", now - start, slot.role, pid))
                try await Task.sleep(for: .seconds(2))
                slots[index].process = try launch(slot.role, slot.arguments)
                nextKill = Stopwatch.now() + killEvery * (0.5 + uniform())
            }
            for (index, slot) in slots.enumerated() where !slot.process.isRunning {
                // A role that exited by itself is a finding, not something to restart quietly.
                throw TestSupportError("the \(slot.role) in slot \(index) exited on its own (logs in \(directory.path))")
            }
            if now >= nextSample {
                var resident: [String: Int] = [:]
                for slot in slots {
                    guard let pid = slot.process.pid, let bytes = ProcessCPU.residentBytes(of: pid) else { continue }
                    resident[slot.role] = max(resident[slot.role] ?? 0, bytes)
                }
                if let pid = redis.pid { resident["redis"] = ProcessCPU.residentBytes(of: pid) }
                if let pid = stub.pid { resident["stub"] = ProcessCPU.residentBytes(of: pid) }
                let size = try await connection.query("SELECT pg_database_size(current_database()) AS n").first?["n"].int64 ?? 0
                outcome.samples.append(Sample(
                    seconds: now - start, stored: storedBefore + summary.accounted, redisBytes: try await EndToEndBenchmark.redisUsedMemory(queue),
                    databaseBytes: size, resident: resident, resultBatches: Int(try await queue.send("XLEN", layout.results).integer ?? 0)))
                nextSample = now + 10
            }
            if now > end + 900 { throw TestSupportError("run \(current.id) did not complete within 15 minutes of the soak's end") }
            try await Task.sleep(for: .milliseconds(200))
        }
        outcome.seconds = Stopwatch.now() - start
        await connection.close()
        try write(outcome)
        return outcome
    }

    /// Exact accounting of a completed run.
    static func check(runID: String, seconds: Double, connection: PostgresConnection) async throws -> RunCheck {
        let row = try await connection.query("""
            SELECT r.target_count AS samples, c.records, c.keys, s.dead,
                   (r.records_kept = c.kept AND r.records_duplicate = c.duplicate AND r.records_filtered = c.filtered
                    AND r.records_failed = c.failed) AS counters_match
            FROM runs r,
                 LATERAL (SELECT count(*) AS records, count(DISTINCT (position, sample)) AS keys,
                                 count(*) FILTER (WHERE status = 'kept') AS kept, count(*) FILTER (WHERE status = 'duplicate') AS duplicate,
                                 count(*) FILTER (WHERE status = 'filtered') AS filtered, count(*) FILTER (WHERE status = 'failed') AS failed
                          FROM records WHERE run_id = r.id) AS c,
                 LATERAL (SELECT count(*) AS dead FROM run_shards WHERE run_id = r.id AND status = 'dead') AS s
            WHERE r.id = $1::uuid
            """, [runID]).first
        guard let row else { throw TestSupportError("run \(runID) is not in the database") }
        return RunCheck(
            runID: runID, samples: row["samples"].int64 ?? -1, records: row["records"].int64 ?? -1, distinctKeys: row["keys"].int64 ?? -1,
            countersMatch: row["counters_match"].bool ?? false, deadShards: row["dead"].int64 ?? -1,
            matchesSequentialRule: try await EndToEndBenchmark.matchesSequentialRule(runID: runID, seed: 7, connection: connection),
            seconds: seconds)
    }

    /// The series, as `soak.csv` and as `soak.svg` (one panel per series, minutes across).
    func write(_ outcome: Outcome) throws {
        let roles = ["coordinator", "reducer", "worker", "redis", "stub"]
        var csv = "seconds,records_stored,redis_used_bytes,database_bytes,result_batches," + roles.map { "rss_\($0)_bytes" }.joined(separator: ",") + "\n"
        for sample in outcome.samples {
            csv += ([String(format: "%.1f", sample.seconds), String(sample.stored), String(sample.redisBytes), String(sample.databaseBytes),
                     String(sample.resultBatches)] + roles.map { String(sample.resident[$0] ?? 0) }).joined(separator: ",") + "\n"
        }
        try csv.write(to: output.appendingPathComponent("soak.csv"), atomically: true, encoding: .utf8)
        let mib = 1_048_576.0
        var panels: [(title: String, values: [Double])] = [
            ("records stored (thousands)", outcome.samples.map { Double($0.stored) / 1000 }),
            ("Redis used_memory (MiB)", outcome.samples.map { Double($0.redisBytes) / mib }),
            ("PostgreSQL database (MiB)", outcome.samples.map { Double($0.databaseBytes) / mib }),
        ]
        for role in roles { panels.append(("RSS of the largest \(role) (MiB)", outcome.samples.map { Double($0.resident[role] ?? 0) / mib })) }
        try Self.svg(panels: panels, minutes: outcome.samples.map { $0.seconds / 60 })
            .write(to: output.appendingPathComponent("soak.svg"), atomically: true, encoding: .utf8)
    }

    /// Line charts, one under the other, sharing the x axis (minutes).
    static func svg(panels: [(title: String, values: [Double])], minutes: [Double]) -> String {
        let width = 720.0, height = 150.0, left = 70.0, right = 20.0, top = 28.0, bottom = 26.0
        let span = max(minutes.last ?? 1, 1)
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height) * panels.count)\" font-family=\"sans-serif\" font-size=\"11\">\n"
        for (index, panel) in panels.enumerated() {
            let y0 = Double(index) * height
            let peak = max(panel.values.max() ?? 1, 1e-9) * 1.1
            let plotWidth = width - left - right, plotHeight = height - top - bottom
            out += "<text x=\"\(left)\" y=\"\(y0 + 16)\" font-weight=\"bold\">\(panel.title)</text>\n"
            out += "<rect x=\"\(left)\" y=\"\(y0 + top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"none\" stroke=\"#999\"/>\n"
            out += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.1f</text>\n", left - 4, y0 + top + 8, peak)
            out += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">0</text>\n", left - 4, y0 + top + plotHeight)
            out += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.0f min</text>\n", left + plotWidth, y0 + height - 8, span)
            let points = zip(minutes, panel.values).map { minute, value in
                String(format: "%.1f,%.1f", left + minute / span * plotWidth, y0 + top + plotHeight - value / peak * plotHeight)
            }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"#1f6fb4\" stroke-width=\"1.5\" points=\"\(points)\"/>\n"
        }
        return out + "</svg>\n"
    }
}
