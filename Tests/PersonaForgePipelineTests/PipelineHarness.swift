import Foundation
import Logging
import PersonaForgeHTTP
import PersonaForgePostgres
import PersonaForgeRedis
import PersonaForgeTestSupport

/// Runs the real `personaforge` services as separate processes against the local
/// stack's Redis and PostgreSQL, in a Redis namespace of their own, and lets tests
/// kill, signal and inspect them.
final class PipelineHarness: @unchecked Sendable {
    // @unchecked Sendable: `processes` is only touched by the test's own task.
    let namespace = "t\(UInt32.random(in: 0...UInt32.max))"
    let directory: URL
    let llmBaseURL: String
    var processes: [ChildProcess] = []
    let environment: [String: String]
    let fixture: HTTPFixtureServer?

    /// `llm`: a fixture mode (`ok`, `slow`, `flaky`, ...) or nil for the real local model.
    init(llm mode: String?) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pf-pipeline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if let mode {
            let server = try HTTPFixtureServer()
            fixture = server
            llmBaseURL = "\(server.baseURL)/fault/\(mode)/v1"
        } else {
            fixture = nil
            llmBaseURL = ProcessInfo.processInfo.environment["PERSONAFORGE_LLM_BASE_URL"] ?? "http://127.0.0.1:8088/v1"
        }
        var environment = ProcessInfo.processInfo.environment
        environment["PERSONAFORGE_NAMESPACE"] = namespace
        environment["PERSONAFORGE_LLM_BASE_URL"] = llmBaseURL
        environment["PERSONAFORGE_LOG_LEVEL"] = "info"
        // Many services share this machine: the metrics endpoint is off unless a test
        // gives a process its own port (`start(_:metricsPort:)`).
        environment["PERSONAFORGE_METRICS_PORT"] = "0"
        environment["PERSONAFORGE_METRICS_HOST"] = "127.0.0.1"
        self.environment = environment
    }

    deinit {
        for process in processes { process.terminate(signal: SIGKILL) }
        fixture?.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Writes a run config with an inline persona axis of `personas` values.
    /// `model` lines go under `model:` (indented by two spaces), `extra` at the top level.
    func writeConfig(name: String, personas: Int, samples: Int = 1, shardSize: Int, maxTokens: Int = 16, model: [String] = [], extra: String = "") throws -> String {
        let values = (0..<personas).map { "      - \"persona number \($0) who likes topic \($0 % 7)\"" }.joined(separator: "\n")
        let yaml = """
            name: \(name)
            seed: \(UInt16.random(in: 0...UInt16.max))
            samples_per_condition: \(samples)
            shard_size: \(shardSize)
            axes:
              - name: persona
                source:
                  values:
            \(values)
            model:
              max_tokens: \(maxTokens)
            \(model.map { "  " + $0 }.joined(separator: "\n"))
            steps:
              - name: question
                user: "You are {{persona}}. Ask one short question."
            \(extra)
            """
        let path = directory.appendingPathComponent("\(name).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Starts `personaforge ARGUMENTS` in the background; output goes to a log file.
    /// `environment` entries override the harness's for this process only.
    @discardableResult
    func start(_ arguments: [String], environment overrides: [String: String] = [:]) throws -> ChildProcess {
        let log = directory.appendingPathComponent("\(arguments[0])-\(processes.count).log").path
        let process = try ChildProcess(
            [ProjectPaths.executable] + arguments, environment: environment.merging(overrides) { _, new in new }, logPath: log
        )
        processes.append(process)
        return process
    }

    /// The log tails of the processes this harness started that are no longer running (for a failure message).
    func exitedLogs() -> String {
        processes.enumerated().filter { !$0.element.isRunning }.map { index, process in
            "\n--- exited: \(process.arguments.dropFirst().joined(separator: " "))\n\(log(of: index).suffix(1500))"
        }.joined()
    }

    func log(of index: Int) -> String {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        guard let name = files.first(where: { $0.hasSuffix("-\(index).log") }) else { return "" }
        return (try? String(contentsOfFile: directory.appendingPathComponent(name).path, encoding: .utf8)) ?? ""
    }

    /// Runs `personaforge ARGUMENTS` to completion.
    func run(_ arguments: [String], timeout: Duration = .seconds(120), environment overrides: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        let out = directory.appendingPathComponent("cmd-\(UUID().uuidString).out").path
        let process = try ChildProcess(
            [ProjectPaths.executable] + arguments, environment: environment.merging(overrides) { _, new in new }, logPath: out
        )
        guard let status = await process.waitForExit(timeout: timeout) else {
            process.terminate(signal: SIGKILL)
            throw TestSupportError("personaforge \(arguments.joined(separator: " ")) did not finish in \(timeout)")
        }
        return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
    }

    /// Submits a config and returns the run id (the last line of standard output).
    func submit(_ path: String, environment overrides: [String: String] = [:]) async throws -> String {
        let result = try await run(["submit", path], environment: overrides)
        guard result.status == 0, let id = result.output.split(separator: "\n").last.map(String.init), id.count == 36 else {
            throw TestSupportError("submit failed (\(result.status)): \(result.output)")
        }
        return id
    }

    // MARK: Inspection

    /// `GET http://127.0.0.1:PORT/PATH` (the services' metrics and probe endpoint).
    func get(port: Int, _ path: String) async throws -> (status: Int, body: String) {
        let http = HTTPClient()
        defer { http.shutdown() }
        let response = try await http.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/\(path)", timeout: .seconds(5), connectTimeout: .seconds(2)))
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    /// Waits until `GET PATH` on `port` answers `status`; returns the body.
    @discardableResult
    func waitFor(port: Int, _ path: String, status expected: Int, timeout: Duration = .seconds(60)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var last = "no answer"
        while ContinuousClock.now < deadline {
            do {
                let answer = try await get(port: port, path)
                if answer.status == expected { return answer.body }
                last = "\(answer.status): \(answer.body)"
            } catch {
                last = "no answer: \(error)"
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestSupportError("GET :\(port)/\(path) did not answer \(expected) within \(timeout); last: \(last)\(exitedLogs())")
    }

    /// Scrapes `port`'s /metrics until `condition` holds (a service updates its metrics
    /// just after the database write a test waits for); returns the last samples.
    func metrics(port: Int, timeout: Duration = .seconds(30), until condition: ([String: Double]) -> Bool) async throws -> [String: Double] {
        let deadline = ContinuousClock.now + timeout
        var samples: [String: Double] = [:]
        while ContinuousClock.now < deadline {
            // A service that is still starting has no endpoint yet: keep asking.
            if let body = try? await get(port: port, "metrics").body {
                samples = Self.samples(body)
                if condition(samples) { return samples }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return samples
    }

    /// The samples of a Prometheus text exposition: `name{labels}` → value.
    static func samples(_ exposition: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    func database() async throws -> PostgresConnection {
        let url = ProcessInfo.processInfo.environment["PERSONAFORGE_DATABASE_URL"]
            ?? "postgresql://personaforge:personaforge@127.0.0.1:15432/personaforge"
        return try await PostgresConnection.connect(to: url, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    func redis() throws -> RedisConnection {
        RedisConnection(configuration: try RedisConfiguration(url: ProcessInfo.processInfo.environment["PERSONAFORGE_REDIS_URL"] ?? "redis://127.0.0.1:16379/0"))
    }

    struct Counts: Equatable {
        var state: String
        var records: Int
        var distinctKeys: Int
        var kept: Int
        var filtered: Int
        var failed: Int
        var counted: Int
        var shards: Int
        var deadShards: Int
    }

    func counts(_ runID: String) async throws -> Counts {
        let database = try await database()
        defer { Task { await database.close() } }
        let row = try await database.query("""
            SELECT r.state,
                   (SELECT count(*) FROM records WHERE run_id = r.id) AS records,
                   (SELECT count(DISTINCT (position, sample)) FROM records WHERE run_id = r.id) AS distinct_keys,
                   (SELECT count(*) FROM records WHERE run_id = r.id AND status = 'kept') AS kept,
                   (SELECT count(*) FROM records WHERE run_id = r.id AND status = 'filtered') AS filtered,
                   (SELECT count(*) FROM records WHERE run_id = r.id AND status = 'failed') AS failed,
                   r.records_generated AS counted,
                   (SELECT count(*) FROM run_shards WHERE run_id = r.id) AS shards,
                   (SELECT count(*) FROM run_shards WHERE run_id = r.id AND status = 'dead') AS dead
            FROM runs r WHERE r.id = $1::uuid
            """, [runID])[0]
        return Counts(
            state: row["state"].string ?? "", records: row["records"].int ?? -1, distinctKeys: row["distinct_keys"].int ?? -1,
            kept: row["kept"].int ?? -1, filtered: row["filtered"].int ?? -1, failed: row["failed"].int ?? -1,
            counted: row["counted"].int ?? -1, shards: row["shards"].int ?? -1, deadShards: row["dead"].int ?? -1
        )
    }

    /// Polls until `condition` holds for the run's counts, or fails after `timeout`.
    @discardableResult
    func waitFor(_ runID: String, timeout: Duration = .seconds(120), _ condition: (Counts) -> Bool) async throws -> Counts {
        let deadline = ContinuousClock.now + timeout
        var last: Counts?
        while ContinuousClock.now < deadline {
            let counts = try await counts(runID)
            if condition(counts) { return counts }
            last = counts
            try await Task.sleep(for: .milliseconds(250))
        }
        throw TestSupportError("run \(runID) did not reach the expected state in \(timeout); last: \(String(describing: last))\nlogs:\n" + (0..<processes.count).map { log(of: $0) }.joined(separator: "\n---\n").suffix(4000))
    }
}

// MARK: The determinism scenario

extension PipelineHarness {
    /// Runs `config` with 1 worker and 1 reducer, then again (`--new`: same seed, same
    /// samples) with 3 workers and 2 reducers reading one batch at a time, one of them
    /// killed with SIGKILL mid-run and a third started. `reducerEnvironment` goes to
    /// every reducer. Returns both run ids once both completed with 60 records.
    func runSeriallyThenInParallelWithAReducerKilled(
        _ config: String, reducerEnvironment: [String: String] = [:]
    ) async throws -> (serial: String, parallel: String, records: Int) {
        let serial = try await submit(config)
        try start(["coordinator"])
        let lone = [try start(["reducer"], environment: reducerEnvironment), try start(["worker", "--concurrency", "2"])]
        _ = try await waitFor(serial, timeout: .seconds(120)) { $0.state == "completed" }
        for process in lone { process.terminate(signal: SIGKILL) }

        let resubmitted = try await run(["submit", config, "--new"])
        guard let parallel = resubmitted.output.split(separator: "\n").last.map(String.init), parallel.count == 36 else {
            throw TestSupportError("submit --new failed (\(resubmitted.status)): \(resubmitted.output)")
        }
        let victim = try start(["reducer", "--batch-count", "1"], environment: reducerEnvironment)
        try start(["reducer", "--batch-count", "1"], environment: reducerEnvironment)
        for _ in 0..<3 { try start(["worker", "--concurrency", "2"]) }
        _ = try await waitFor(parallel, timeout: .seconds(60)) { $0.records >= 15 }
        victim.terminate(signal: SIGKILL)
        try start(["reducer", "--batch-count", "1", "--claim-idle", "2"], environment: reducerEnvironment)
        let counts = try await waitFor(parallel, timeout: .seconds(120)) { $0.state == "completed" }
        return (serial, parallel, counts.records)
    }

    /// `position:sample` of the run's kept records, sorted.
    func keptKeys(_ run: String, database: PostgresConnection) async throws -> [String] {
        try await database.query(
            "SELECT position || ':' || sample AS key FROM records WHERE run_id = $1::uuid AND status = 'kept' ORDER BY 1", [run]
        ).compactMap { $0["key"].string }
    }

    /// `position:sample` of each condition's earliest sample in the run's sample order, sorted.
    func earliestSampleKeys(_ run: String, database: PostgresConnection) async throws -> [String] {
        try await database.query("""
            SELECT DISTINCT ON (position) position || ':' || sample AS key FROM records
            WHERE run_id = $1::uuid ORDER BY position, sample_position
            """, [run]).compactMap { $0["key"].string }.sorted()
    }
}
