import Foundation
import Logging
import PersonaForgePostgres
import PersonaForgeQueue
import PersonaForgeRedis
import PersonaForgeStore
import PersonaForgeTestSupport

/// Time and memory of `plan`, `submit` and the coordinator's sharding for condition
/// spaces of 10^6, 10^9 and 10^12 conditions (issue 14): a run of personas × 200
/// topics (10^6 with 5,000 personas), times one or two inline axes of 1,000 values.
/// No `limit`, so the 10^12 run's sample space has 10^10 shards of 100.
///
/// For each size it runs the real `personaforge` binary:
///
/// 1. `personaforge plan RUN.yaml` (validate, size the space, render 3 prompts);
/// 2. `personaforge submit --new RUN.yaml` against `databaseURL` and a private
///    redis-server;
/// 3. `personaforge coordinator` alone (no workers): the time from its start until
///    the shard stream holds its high-water mark of 64 shards (process start,
///    connections and the lease included), its resident memory then and 2 s later,
///    and Redis's `used_memory`; then SIGTERM (it releases its lease);
///
/// and then cancels the run, so that the scratch database keeps no active run.
/// `personaforge version` is measured first, as the floor of any invocation (process
/// start and exit). Wall time and peak resident memory of each process come from
/// `wait4`'s `rusage`.
struct PlanScaleBenchmark {
    var databaseURL: String
    var binaries: URL
    var sizes: [Int] = [6, 9, 12]

    struct Row {
        var exponent: Int
        var planSeconds: Double
        var planPeakBytes: Int
        var submitSeconds: Double
        var submitPeakBytes: Int
        var shardCount: String
        var queueFillSeconds: Double
        var queuedShards: Int
        var coordinatorResidentBytes: Int
        var coordinatorResidentLaterBytes: Int
        var redisUsedBytes: Int
    }

    /// The floor of any invocation: `personaforge version` (start, no work), measured first.
    var reference: (seconds: Double, peakBytes: Int) = (0, 0)

    mutating func run() async throws -> [Row] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pf-plan-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let personaforge = binaries.appendingPathComponent("personaforge").path
        guard FileManager.default.isExecutableFile(atPath: personaforge) else {
            throw TestSupportError("\(personaforge) not found: build it first (swift build -c release)")
        }
        try EndToEndBenchmark.writeInputs(in: directory, personasFile: nil)
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let queue = RedisConnection(configuration: try RedisConfiguration(url: redis.url))
        let layout = QueueLayout()
        var environment = ProcessInfo.processInfo.environment
        environment["PERSONAFORGE_REDIS_URL"] = redis.url
        environment["PERSONAFORGE_DATABASE_URL"] = databaseURL
        environment["PERSONAFORGE_METRICS_PORT"] = "0"

        /// Runs `personaforge ARGUMENTS` to its end: stdout, seconds and peak RSS.
        func command(_ arguments: [String]) throws -> (output: String, seconds: Double, peakBytes: Int) {
            let output = directory.appendingPathComponent("out-\(UUID().uuidString.prefix(6))").path
            let errors = directory.appendingPathComponent("err-\(UUID().uuidString.prefix(6))").path
            let start = Stopwatch.now()
            let process = try ChildProcess([personaforge] + arguments, environment: environment, logPath: output, errorPath: errors)
            var status: Int32 = 0
            var usage = rusage()
            if let pid = process.pid { wait4(pid, &status, 0, &usage) }
            let seconds = Stopwatch.now() - start
            guard status == 0 else {
                throw TestSupportError("personaforge \(arguments.joined(separator: " ")) failed:\n"
                    + ((try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""))
            }
            return ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "", seconds, usage.ru_maxrss * 1024)
        }
        _ = try command(["migrate"])
        let version = try command(["version"])
        reference = (version.seconds, version.peakBytes)

        var rows: [Row] = []
        for exponent in sizes {
            let extra = max(0, (exponent - 6) / 3)
            var axes = ""
            for axis in 0..<extra {
                axes += "  - name: style\(axis)\n    source:\n      values: [" + (0..<1_000).map { "s\(axis)-\($0)" }.joined(separator: ", ") + "]\n"
            }
            let yaml = """
                name: plan-scale-1e\(exponent)
                seed: 7
                shard_size: 100
                axes:
                  - name: persona
                    source:
                      file: personas.jsonl
                      field: persona
                  - name: topic
                    source:
                      file: topics.txt

                """ + axes + """
                model:
                  name: stub
                  max_tokens: 64
                steps:
                  - name: text
                    user: "Write about {{topic}} for {{persona}}"
                """
            let path = directory.appendingPathComponent("plan-1e\(exponent).yaml").path
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)

            let plan = try command(["plan", path, "--json"])
            let report = (try? JSONSerialization.jsonObject(with: Data(plan.output.utf8))) as? [String: Any]
            guard let conditions = report?["conditionCount"] as? Int, conditions == Int(pow(10, Double(exponent))),
                  let shards = report?["shardCount"] as? Int else {
                throw TestSupportError("plan did not report 10^\(exponent) conditions: \(plan.output.prefix(300))")
            }
            let shardCount = String(shards)
            let submit = try command(["submit", "--new", path])
            guard let runID = submit.output.split(separator: "\n").last.map(String.init), UUID(uuidString: runID) != nil else {
                throw TestSupportError("submit printed no run id: \(submit.output)")
            }
            _ = try await queue.send("DEL", layout.shards)

            let coordinator = try ChildProcess([personaforge, "coordinator"], environment: environment,
                                               logPath: directory.appendingPathComponent("coordinator-1e\(exponent).log").path)
            let start = Stopwatch.now()
            var queued = 0
            while true {
                queued = Int(try await queue.send("XLEN", layout.shards).integer ?? 0)
                if queued >= 64 { break }
                guard coordinator.isRunning else { throw TestSupportError("the coordinator exited (log in \(directory.path))") }
                if Stopwatch.now() - start > 60 { throw TestSupportError("the coordinator queued \(queued) shards in 60 s") }
                try await Task.sleep(for: .milliseconds(5))
            }
            let fill = Stopwatch.now() - start
            let resident = coordinator.pid.flatMap(ProcessCPU.residentBytes(of:)) ?? 0
            try await Task.sleep(for: .seconds(2))
            queued = Int(try await queue.send("XLEN", layout.shards).integer ?? 0)
            let residentLater = coordinator.pid.flatMap(ProcessCPU.residentBytes(of:)) ?? 0
            let used = try await EndToEndBenchmark.redisUsedMemory(queue)
            // SIGTERM: the coordinator releases its lease, so the next one starts at once.
            _ = coordinator.terminate(signal: SIGTERM)
            _ = try command(["runs", "cancel", runID])
            rows.append(Row(
                exponent: exponent, planSeconds: plan.seconds, planPeakBytes: plan.peakBytes, submitSeconds: submit.seconds,
                submitPeakBytes: submit.peakBytes, shardCount: shardCount, queueFillSeconds: fill, queuedShards: queued,
                coordinatorResidentBytes: resident, coordinatorResidentLaterBytes: residentLater, redisUsedBytes: used))
        }
        return rows
    }
}
