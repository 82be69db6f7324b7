import Foundation
import Logging
import PersonaForgeCore
import PersonaForgePostgres
import PersonaForgeQueue
import PersonaForgeRedis
import PersonaForgeStore
import PersonaForgeTestSupport

/// A distributed run end to end, as a user starts it: a coordinator, reducers and
/// workers (the real `personaforge` binary, one process each) against
/// `personaforge-stub` (an instant OpenAI-compatible server), a private redis-server
/// configured as production runs it, and the PostgreSQL database of `databaseURL` (use
/// a scratch database: the roles work on every active run in it).
///
/// The roles are started once; then runs of `records` records are submitted one after
/// the other, alternating dedup on and dedup off for `rounds` rounds, so both are
/// measured side by side on the same processes. For each run it reports the wall time
/// from submission until every record is stored and decided (the reducer's counters
/// account for every record and the results stream is drained: no batch waits or is
/// pending, so the decide step of the last batch has committed; polled every 20 ms),
/// and the CPU seconds every process spent in that window, per record.
struct EndToEndBenchmark {
    var databaseURL: String
    var records: Int
    var workers: Int
    var concurrency: Int
    var reducers: Int
    var rounds: Int
    var shardSize: Int
    var nearDuplicatePercent: Int
    var words: Int
    var personasFile: String?
    var redisFsync: String
    var binaries: URL

    struct Measurement {
        var dedup: Bool
        /// Dedup on: whether the stored duplicates are exactly those of the sequential
        /// rule (an in-memory index fed the run's texts in sample order, as
        /// `personaforge dedup` does); nil with dedup off.
        var matchesSequentialRule: Bool?
        var records: Int64
        var kept: Int64
        var duplicates: Int64
        var seconds: Double
        var cpu: [(role: String, seconds: Double)]
        /// Redis (the queue server) during the run, sampled every 20 ms: the peak of
        /// `used_memory`, and the longest the shard and result streams got.
        var redisPeakBytes: Int = 0
        var redisEndBytes: Int = 0
        var peakShards: Int = 0
        var peakResults: Int = 0
        var perSecond: Double { Double(records) / seconds }
        var totalCPU: Double { cpu.reduce(0) { $0 + $1.seconds } }
    }

    func run() async throws -> [Measurement] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pf-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let personaforge = binaries.appendingPathComponent("personaforge").path
        let stubPath = binaries.appendingPathComponent("personaforge-stub").path
        for path in [personaforge, stubPath] where !FileManager.default.isExecutableFile(atPath: path) {
            throw TestSupportError("\(path) not found: build it first (swift build -c release)")
        }

        // The stub, on a free port.
        let stubPort = try Loopback.freePort()
        let stub = try ChildProcess(
            [stubPath, "--port", String(stubPort), "--words", String(words),
             "--near-duplicate-percent", String(nearDuplicatePercent)],
            logPath: directory.appendingPathComponent("stub.log").path)
        try Loopback.waitUntilListening(port: stubPort)

        // Redis as deploy/compose.yaml and k8s run it (append-only file), on a free port.
        let redis = try RedisServerProcess(persistent: true, fsync: redisFsync)
        guard let redisPID = redis.pid else { throw TestSupportError("redis-server did not start") }

        let environment = EndToEndBenchmark.roleEnvironment(redisURL: redis.url, databaseURL: databaseURL, stubPort: stubPort)

        func command(_ arguments: [String]) throws -> String {
            try Self.command(personaforge, arguments, environment: environment, directory: directory)
        }

        _ = try command(["migrate"])
        try Self.writeInputs(in: directory, personasFile: personasFile)

        // The roles, started once for every run.
        var roles: [(role: String, process: ChildProcess)] = []
        func start(_ role: String, _ arguments: [String]) throws {
            let log = directory.appendingPathComponent("\(role)-\(roles.count).log").path
            roles.append((role, try ChildProcess([personaforge] + arguments, environment: environment, logPath: log)))
        }
        try start("coordinator", ["coordinator"])
        for _ in 0..<reducers { try start("reducer", ["reducer"]) }
        for _ in 0..<workers { try start("worker", ["worker", "--concurrency", String(concurrency)]) }
        defer { for (_, process) in roles { process.terminate(signal: SIGKILL) } }

        let (connection, repository, queue, layout) = try await EndToEndBenchmark.observer(databaseURL: databaseURL, redisURL: redis.url)
        // The PostgreSQL server's processes: the postmaster is our backend's parent.
        guard let postmaster = ProcessCPU.parent(of: pid_t(try await connection.backendProcessID())) else {
            throw TestSupportError("cannot find the PostgreSQL server's processes (is it on another machine?)")
        }

        func cpuByRole() -> [String: Double] {
            var totals = [String: Double]()
            for (role, process) in roles {
                guard let pid = process.pid, let seconds = ProcessCPU.seconds(of: pid) else { continue }
                totals[role, default: 0] += seconds
            }
            totals["postgres"] = ProcessCPU.seconds(ofTree: postmaster)
            totals["redis"] = ProcessCPU.seconds(of: redisPID) ?? 0
            totals["stub"] = stub.pid.flatMap { ProcessCPU.seconds(of: $0) } ?? 0
            return totals
        }

        var measurements: [Measurement] = []
        // One warm-up run (connections, caches, the first shards' planning) not reported.
        for (index, dedup) in ([true] + (0..<rounds).flatMap { _ in [true, false] }).enumerated() {
            let warmUp = index == 0
            let config = try writeConfig(in: directory, dedup: dedup, records: warmUp ? min(records, 2_000) : records, name: "e2e-\(index)")
            let runID = try command(["submit", "--new", config]).split(separator: "\n").last.map(String.init) ?? ""
            let startCPU = cpuByRole()
            let start = Stopwatch.now()
            var summary: RunSummary?
            var redisPeak = 0, peakShards = 0, peakResults = 0
            while true {
                redisPeak = max(redisPeak, try await Self.redisUsedMemory(queue))
                peakShards = max(peakShards, Int(try await queue.send("XLEN", layout.shards).integer ?? 0))
                peakResults = max(peakResults, Int(try await queue.send("XLEN", layout.results).integer ?? 0))
                summary = try await repository.summary(id: runID)
                guard let current = summary else { throw TestSupportError("run \(runID) is not in the database") }
                if current.accounted >= current.sampleCount || !current.state.isActive {
                    // Stored; decided once the last batch is acknowledged (after its decide step).
                    let waiting = try await queue.send("XLEN", layout.results).integer ?? 0
                    let pending = try await queue.pendingSummary(layout.results, group: layout.reducersGroup).count
                    if waiting == 0 && pending == 0 { break }
                }
                for (role, process) in roles where !process.isRunning {
                    throw TestSupportError("the \(role) exited during the benchmark (logs in \(directory.path))")
                }
                if Stopwatch.now() - start > 900 { throw TestSupportError("run \(runID) did not finish in 15 minutes") }
                try await Task.sleep(for: .milliseconds(20))
            }
            let seconds = Stopwatch.now() - start
            let endCPU = cpuByRole()
            summary = try await repository.summary(id: runID)
            guard let done = summary, !warmUp else { continue }
            let order = ["coordinator", "worker", "reducer", "postgres", "redis", "stub"]
            let matches = dedup ? try await Self.matchesSequentialRule(runID: runID, seed: 7, connection: connection) : nil
            measurements.append(Measurement(
                dedup: dedup, matchesSequentialRule: matches, records: done.accounted, kept: done.kept, duplicates: done.duplicate, seconds: seconds,
                cpu: order.map { ($0, (endCPU[$0] ?? 0) - (startCPU[$0] ?? 0)) },
                redisPeakBytes: redisPeak, redisEndBytes: try await Self.redisUsedMemory(queue), peakShards: peakShards, peakResults: peakResults))
            // Let the coordinator mark it completed before the next one starts.
            try await Task.sleep(for: .milliseconds(300))
        }
        await connection.close()
        return measurements
    }

    /// What a benchmark watches its fleet through: a database connection and its run
    /// repository, a connection to the queue's Redis, and the queue's key layout.
    static func observer(databaseURL: String, redisURL: String) async throws
        -> (connection: PostgresConnection, repository: RunRepository, queue: RedisConnection, layout: QueueLayout) {
        var logger = Logger(label: "personaforge-bench")
        logger.logLevel = .warning
        let connection = try await PostgresConnection.connect(to: databaseURL, logger: logger)
        return (connection, RunRepository(connection: connection), RedisConnection(configuration: try RedisConfiguration(url: redisURL)), QueueLayout())
    }

    /// The environment of every `personaforge` process of a benchmark fleet: this
    /// process's, pointed at the fleet's Redis, PostgreSQL and stub, with no metrics endpoint.
    static func roleEnvironment(redisURL: String, databaseURL: String, stubPort: Int) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["PERSONAFORGE_REDIS_URL"] = redisURL
        environment["PERSONAFORGE_DATABASE_URL"] = databaseURL
        environment["PERSONAFORGE_LLM_BASE_URL"] = "http://127.0.0.1:\(stubPort)/v1"
        environment["PERSONAFORGE_LLM_MODEL"] = "stub"
        environment["PERSONAFORGE_METRICS_PORT"] = "0"
        return environment
    }

    /// Runs `personaforge ARGUMENTS` to its end and returns what it printed (trimmed);
    /// throws with its standard error when it fails.
    static func command(_ personaforge: String, _ arguments: [String], environment: [String: String], directory: URL) throws -> String {
        let output = directory.appendingPathComponent("command-\(UUID().uuidString.prefix(6)).out").path
        let errors = directory.appendingPathComponent("commands.err").path
        let process = try ChildProcess([personaforge] + arguments, environment: environment, logPath: output, errorPath: errors)
        var status: Int32 = 0
        if let pid = process.pid { waitpid(pid, &status, 0) }
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw TestSupportError("personaforge \(arguments.joined(separator: " ")) failed:\n\((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Recomputes the run's duplicates with the sequential rule (earliest in sample order
    /// wins, every record indexed) and compares them with the stored statuses.
    static func matchesSequentialRule(runID: String, seed: UInt64, connection: PostgresConnection) async throws -> Bool {
        let hasher = MinHasher(parameters: try MinHashParameters(ngramSize: 5, permutationCount: 128, seed: seed))
        var index = InMemoryLSHIndex<Int>(parameters: try LSHParameters(threshold: 0.8, permutationCount: 128))
        let rows = try await connection.query(
            "SELECT sample_position, status, text FROM records WHERE run_id = $1::uuid ORDER BY sample_position", [runID])
        for row in rows {
            let expected = index.insert(row["sample_position"].int ?? -1, signature: hasher.signature(of: row["text"].string ?? "")).isDuplicate
            if expected != (row["status"].string == "duplicate") { return false }
        }
        return true
    }

    private func writeConfig(in directory: URL, dedup: Bool, records: Int, name: String) throws -> String {
        let path = directory.appendingPathComponent("\(name).yaml").path
        try Self.configYAML(name: name, dedup: dedup, records: records, shardSize: shardSize).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The benchmark's run config: personas × 200 topics, one step, the default filters
    /// and dedup settings; `personas.jsonl` and `topics.txt` next to it.
    static func configYAML(name: String, dedup: Bool, records: Int, shardSize: Int, maxTokens: Int = 200) -> String {
        """
            name: \(name)-dedup-\(dedup ? "on" : "off")
            seed: 7
            limit: \(records)
            shard_size: \(shardSize)
            axes:
              - name: persona
                source:
                  file: personas.jsonl
                  field: persona
              - name: topic
                source:
                  file: topics.txt
            model:
              name: stub
              max_tokens: \(maxTokens)
              timeout_seconds: 30
            steps:
              - name: text
                user: "Write a short text about {{topic}} for this person: {{persona}}"
            filters:
              min_chars: 30
            dedup:
              enabled: \(dedup)
            """
    }

    /// The benchmark's inputs and run config written to `directory`, loaded as a worker loads it.
    static func loadedRun(in directory: URL, name: String, dedup: Bool, records: Int, shardSize: Int, maxTokens: Int = 200) throws -> LoadedRun {
        try writeInputs(in: directory, personasFile: nil)
        let path = directory.appendingPathComponent("\(name).yaml").path
        try configYAML(name: name, dedup: dedup, records: records, shardSize: shardSize, maxTokens: maxTokens)
            .write(toFile: path, atomically: true, encoding: .utf8)
        do {
            return try RunConfigLoader().load(path: path)
        } catch {
            throw TestSupportError("the benchmark's config does not load: \(error.description)")
        }
    }

    /// `used_memory` of the Redis behind `connection`, in bytes.
    static func redisUsedMemory(_ connection: RedisConnection) async throws -> Int {
        let info = try await connection.send("INFO", "memory").string ?? ""
        return info.split(separator: "\r\n").first { $0.hasPrefix("used_memory:") }.flatMap { Int($0.dropFirst("used_memory:".count)) } ?? 0
    }

    /// Writes `personas.jsonl` (Persona Hub lines from `personasFile`, else generated) and `topics.txt`.
    static func writeInputs(in directory: URL, personasFile: String?) throws {
        let personas: String
        if let personasFile {
            personas = try String(contentsOfFile: personasFile, encoding: .utf8)
        } else {
            personas = Self.generatedPersonas(count: 5_000)
        }
        try personas.write(to: directory.appendingPathComponent("personas.jsonl"), atomically: true, encoding: .utf8)
        let topics = (0..<200).map { "topic number \($0) of the benchmark" }.joined(separator: "\n") + "\n"
        try topics.write(to: directory.appendingPathComponent("topics.txt"), atomically: true, encoding: .utf8)
    }

    /// Persona-like JSONL lines when no Persona Hub file is given.
    static func generatedPersonas(count: Int) -> String {
        let roles = ["nurse", "carpenter", "historian", "chemist", "teacher", "pilot", "farmer", "librarian", "coder", "chef"]
        let places = ["Lagos", "Lima", "Oslo", "Pune", "Kyoto", "Quito", "Tunis", "Hanoi", "Perth", "Accra"]
        let interests = ["chess", "birds", "jazz", "rowing", "poetry", "trains", "orchids", "maps", "tea", "astronomy"]
        return (0..<count).map { i in
            "{\"persona\": \"A \(roles[i % 10]) from \(places[(i / 10) % 10]) who loves \(interests[(i / 100) % 10]) (#\(i))\"}"
        }.joined(separator: "\n") + "\n"
    }
}
