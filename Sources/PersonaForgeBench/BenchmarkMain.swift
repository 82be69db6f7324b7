import Foundation
import PersonaForgeCore

/// `personaforge-bench`: single-core throughput of MinHash signatures and LSH
/// decisions, plus in-memory index capacity. Build with `swift build -c release`.
///
///     personaforge-bench [--corpus FILE.jsonl --field text] [--docs 20000] [--words 200]
///                        [--ngram 5] [--num-perm 128] [--threshold 0.8] [--repetitions 3]
///                        [--memory-records 0] [--json]
///
/// With `--postgres-records N` it measures the PostgreSQL band index instead
/// (``PostgresIndexBenchmark``): capacity per GiB and dedup decisions per second
/// through the reducer's write path, on `--database-url` (default
/// `PERSONAFORGE_DATABASE_URL`; use a scratch database).
///
///     personaforge-bench --postgres-records 1000000 [--threshold 0.8] [--batch 1000]
///                        [--probe 20000] [--writers 2] [--keep] [--json]
@main
struct BenchmarkMain {
    static func main() async throws {
        var options = [String: String]()
        var flags = Set<String>()
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            guard argument.hasPrefix("--") else { usageError("unexpected argument \(argument)") }
            let name = String(argument.dropFirst(2))
            if name == "json" || name == "help" || name == "keep" || name == "whole-only" { flags.insert(name); continue }
            guard let value = arguments.next() else { usageError("--\(name) needs a value") }
            options[name] = value
        }
        if flags.contains("help") {
            print("personaforge-bench [--corpus FILE.jsonl --field text] [--docs N] [--words N] [--ngram N] "
                + "[--num-perm K] [--threshold T] [--repetitions R] [--memory-records N] [--json]\n"
                + "personaforge-bench --band-index N [--nodes 3] [--partitions 256] [--bands 9] [--batch 1000] [--probe 20000]\n"
                + "personaforge-bench --postgres-records N [--database-url URL] [--threshold T] [--num-perm K] "
                + "[--batch N] [--probe N] [--writers N] [--keep] [--json]\n"
                + "personaforge-bench --end-to-end N [--database-url URL] [--workers 2] [--concurrency 32] [--reducers 1] "
                + "[--rounds 2] [--shard-size 100] [--near-duplicate-percent 20] [--words 80] [--personas FILE.jsonl] "
                + "[--redis-fsync everysec] [--json]\n"
                + "personaforge-bench --soak MINUTES [--database-url URL] [--records 200000] [--kill-every 60] [--workers 2] [--reducers 2] "
                + "[--concurrency 32] [--seed 1] [--output soak-output]\n"
                + "personaforge-bench --llm-client N [--concurrency 64] [--rounds 2]\n"
                + "personaforge-bench --llm-tokens N [--llm-url http://127.0.0.1:8088/v1] [--model smollm2-135m-instruct] "
                + "[--concurrency 4] [--max-tokens 64] [--rounds 2]\n"
                + "personaforge-bench --plan-scale 6,9,12 [--database-url URL]\n"
                + "personaforge-bench --worker-stages N [--concurrency 32] [--shard-size 100] [--rounds 3] [--words 80] [--whole-only] [--metrics prometheus|noop]\n"
                + "personaforge-bench --diversity N [--words 80] [--rounds 3]\n"
                + "personaforge-bench --copy N [--database-url URL] [--rounds 3] [--words 80] [--psql /usr/bin/psql]")
            return
        }
        if let requestsText = options["llm-client"], let requests = Int(requestsText) {
            let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            let benchmark = LLMClientBenchmark(
                requests: requests, concurrency: intOption(options, "concurrency", 64), rounds: intOption(options, "rounds", 2), binaries: binaries)
            let rows: [LLMClientBenchmark.Row]
            do {
                rows = try await benchmark.run()
            } catch {
                FileHandle.standardError.write(Data("personaforge-bench: \(error)\n".utf8))
                exit(1)
            }
            print("\(requests) chat requests to personaforge-stub, \(benchmark.concurrency) at once; CPU µs per request of the client and of the stub:")
            print(["client", "seconds", "requests/s", "client CPU", "stub CPU", "vs curl"].map { $0.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined())
            var reference = 1.0
            for row in rows {
                if row.name.hasPrefix("curl") { reference = Double(requests) / row.seconds }
                let rate = Double(requests) / row.seconds
                print([row.name, String(format: "%.2f", row.seconds), String(format: "%.0f", rate),
                       String(format: "%.1f", row.cpuSeconds / Double(requests) * 1e6),
                       String(format: "%.1f", row.stubCPUSeconds / Double(requests) * 1e6),
                       String(format: "%.2f×", rate / reference)].map { $0.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined())
            }
            return
        }
        if let requestsText = options["llm-tokens"], let requests = Int(requestsText) {
            let benchmark = LLMTokensBenchmark(
                requests: requests, concurrency: intOption(options, "concurrency", 4), maxTokens: intOption(options, "max-tokens", 64),
                rounds: intOption(options, "rounds", 2),
                baseURL: options["llm-url"] ?? ProcessInfo.processInfo.environment["PERSONAFORGE_LLM_BASE_URL"] ?? "http://127.0.0.1:8088/v1",
                model: options["model"] ?? "smollm2-135m-instruct")
            let rounds: [[LLMTokensBenchmark.Row]]
            do {
                rounds = try await benchmark.run()
            } catch {
                FileHandle.standardError.write(Data("personaforge-bench: \(error)\n".utf8))
                exit(1)
            }
            print("completion tokens/s from \(benchmark.baseURL) (\(benchmark.model)): \(requests) chat requests per client, "
                + "max_tokens \(benchmark.maxTokens), the same bodies and seeds for every client:")
            print(["round", "client", "at once", "seconds", "tokens", "tokens/s", "vs best curl"].map { $0.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined())
            var ratios: [Double] = []
            for (index, rows) in rounds.enumerated() {
                let ceiling = rows.filter { $0.client.hasPrefix("curl") }.map(\.tokensPerSecond).max() ?? 1
                for row in rows {
                    if !row.client.hasPrefix("curl") { ratios.append(row.tokensPerSecond / ceiling) }
                    print([String(index + 1), row.client, String(row.concurrency), String(format: "%.2f", row.seconds), String(row.completionTokens),
                           String(format: "%.1f", row.tokensPerSecond), String(format: "%.2f×", row.tokensPerSecond / ceiling)]
                        .map { $0.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined())
                }
            }
            print(String(format: "worker path / the best curl of its round: %@ (target ≥ 0.95)", ratios.map { String(format: "%.2f×", $0) }.joined(separator: ", ")))
            return
        }
        if let sizes = options["plan-scale"] {
            guard let url = options["database-url"] ?? ProcessInfo.processInfo.environment["PERSONAFORGE_DATABASE_URL"] else {
                usageError("--plan-scale needs --database-url or PERSONAFORGE_DATABASE_URL (a scratch database)")
            }
            let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            var benchmark = PlanScaleBenchmark(databaseURL: url, binaries: binaries, sizes: sizes.split(separator: ",").compactMap { Int($0) })
            let rows: [PlanScaleBenchmark.Row]
            do {
                rows = try await benchmark.run()
            } catch {
                FileHandle.standardError.write(Data("personaforge-bench: \(error)\n".utf8))
                exit(1)
            }
            func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
            print("plan, submit and the coordinator's first shards for personas × topics (× 1,000-value axes), shards of 100, no limit:")
            print(String(format: "reference: personaforge version (start and exit) %.3f s, peak %@", benchmark.reference.seconds, mib(benchmark.reference.peakBytes)))
            print(["conditions", "shards", "plan s", "plan peak", "submit s", "submit peak", "64 queued s", "queued 2 s on", "coord. RSS", "RSS 2 s on", "redis used"]
                .map { $0.padding(toLength: 14, withPad: " ", startingAt: 0) }.joined())
            for row in rows {
                print(["10^\(row.exponent)", row.shardCount, String(format: "%.3f", row.planSeconds), mib(row.planPeakBytes),
                       String(format: "%.3f", row.submitSeconds), mib(row.submitPeakBytes), String(format: "%.3f", row.queueFillSeconds),
                       String(row.queuedShards), mib(row.coordinatorResidentBytes), mib(row.coordinatorResidentLaterBytes), mib(row.redisUsedBytes)]
                    .map { $0.padding(toLength: 14, withPad: " ", startingAt: 0) }.joined())
            }
            return
        }
        if let recordsText = options["diversity"], let records = Int(recordsText) {
            let benchmark = DiversityBenchmark(records: records, words: intOption(options, "words", 80), rounds: intOption(options, "rounds", 3))
            let (rows, stateBytes) = try benchmark.run()
            print("live diversity (the reducer's limits) over \(records) generated records of \(benchmark.words) words; µs per record, "
                + "or per call where it says so; the reference is the worker's MinHash signature of the same texts:")
            let reference = rows.first.map { $0.microseconds.min()! } ?? 1
            for row in rows {
                let best = row.microseconds.min()!
                let perCall = row.perCall
                print(row.name.padding(toLength: 40, withPad: " ", startingAt: 0)
                    + row.microseconds.map { String(format: perCall ? "%10.0f" : "%10.2f", $0) }.joined()
                    + (perCall ? "" : String(format: "   best %.2f× MinHash", best / reference)))
            }
            print("persisted state: \(stateBytes) bytes of JSON")
            return
        }
        if let recordsText = options["worker-stages"], let records = Int(recordsText) {
            let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            let benchmark = WorkerStagesBenchmark(
                records: records, concurrency: intOption(options, "concurrency", 32), shardSize: intOption(options, "shard-size", 100),
                rounds: intOption(options, "rounds", 3), words: intOption(options, "words", 80), wholeOnly: flags.contains("whole-only"),
                prometheus: options["metrics"] != "noop", binaries: binaries)
            let rounds: [WorkerStagesBenchmark.Round]
            do {
                rounds = try await benchmark.run()
            } catch {
                FileHandle.standardError.write(Data("personaforge-bench: \(error)\n".utf8))
                exit(1)
            }
            print("worker CPU per record outside the LLM: \(records) records (shards of \(benchmark.shardSize), concurrency "
                + "\(benchmark.concurrency)) against personaforge-stub (\(benchmark.words)-word texts), µs of CPU per record, each round:")
            func cell(_ text: String, _ width: Int = 20) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
            print(cell("stage", 24) + rounds.indices.map { cell("round \($0 + 1)", 12) }.joined())
            let perRecord = { (row: WorkerStagesBenchmark.Row) in String(format: "%.1f", row.cpuSeconds / Double(records) * 1e6) }
            for (offset, stage) in (rounds.first?.stages ?? []).enumerated() {
                print(cell(stage.stage, 24) + rounds.map { cell(perRecord($0.stages[offset]), 12) }.joined())
            }
            print(cell("sum of the stages", 24) + rounds.map {
                cell(String(format: "%.1f", $0.stages.reduce(0) { $0 + $1.cpuSeconds } / Double(records) * 1e6), 12) }.joined())
            print(cell("whole path", 24) + rounds.map { cell(perRecord($0.whole), 12) }.joined())
            print(cell("orchestration", 24) + rounds.map {
                cell(String(format: "%.1f", ($0.whole.cpuSeconds - $0.stages.reduce(0) { $0 + $1.cpuSeconds }) / Double(records) * 1e6), 12) }.joined())
            print(cell("whole path records/s", 24) + rounds.map { cell(String(format: "%.0f", Double(records) / $0.whole.seconds), 12) }.joined())
            print(cell("stub µs per request", 24) + rounds.map { cell(String(format: "%.1f", $0.stubCPUSeconds / Double(records) * 1e6), 12) }.joined())
            let best = rounds.map { $0.whole.cpuSeconds / Double(records) * 1e6 }.min() ?? 0
            print(String(format: "target ≤ 100 µs per record outside the LLM: best round %.1f µs (%.2f× the target)", best, best / 100))
            return
        }
        if let minutes = options["soak"].flatMap(Double.init) {
            try await runSoak(minutes: minutes, options: options)
            return
        }
        if options["end-to-end"] != nil {
            try await runEndToEnd(records: intOption(options, "end-to-end", 0), options: options, json: flags.contains("json"))
            return
        }
        if let rowsText = options["copy"], let rows = Int(rowsText) {
            let benchmark = CopyBenchmark(
                rows: rows, rounds: intOption(options, "rounds", 3), words: intOption(options, "words", 80),
                databaseURL: options["database-url"] ?? ProcessInfo.processInfo.environment["PERSONAFORGE_DATABASE_URL"]
                    ?? "postgresql://personaforge:personaforge@127.0.0.1:15432/personaforge",
                psql: options["psql"] ?? "/usr/bin/psql")
            do {
                let results = try await benchmark.run()
                print("COPY of \(rows) rows of records (\(CopyBenchmark.columns.count) columns, \(benchmark.words)-word texts) into an unlogged table, side by side:")
                print("round  client                 seconds      rows/s   client µs/row   server µs/row")
                results.forEach { print($0) }
                let ours = results.filter { $0.tool == "PostgresConnection" }.map(\.seconds).reduce(0, +)
                let theirs = results.filter { $0.tool != "PostgresConnection" }.map(\.seconds).reduce(0, +)
                print(String(format: "PostgresConnection.copy takes %.2f× the wall time of psql \\copy over all rounds", ours / theirs))
            } catch {
                FileHandle.standardError.write(Data("personaforge-bench: \(error)\n".utf8))
                exit(1)
            }
            return
        }
        if options["band-index"] != nil {
            let benchmark = BandIndexBenchmark(
                records: intOption(options, "band-index", 0), batch: intOption(options, "batch", 1000), probe: intOption(options, "probe", 20000),
                bands: intOption(options, "bands", 9), nodes: intOption(options, "nodes", 3), partitions: intOption(options, "partitions", 256))
            do {
                try await benchmark.run().forEach { print($0) }
            } catch {
                FileHandle.standardError.write(Data("personaforge-bench: \(error)\n".utf8))
                exit(1)
            }
            return
        }
        if options["postgres-records"] != nil {
            guard let url = options["database-url"] ?? ProcessInfo.processInfo.environment["PERSONAFORGE_DATABASE_URL"] else {
                usageError("--postgres-records needs --database-url or PERSONAFORGE_DATABASE_URL")
            }
            let benchmark = PostgresIndexBenchmark(
                databaseURL: url, records: intOption(options, "postgres-records", 0), batch: intOption(options, "batch", 1000),
                probe: intOption(options, "probe", 20000), threshold: doubleOption(options, "threshold", 0.8),
                permutations: intOption(options, "num-perm", 128), cleanup: !flags.contains("keep"),
                writers: intOption(options, "writers", 2))
            let result: PostgresIndexBenchmark.Result
            do {
                result = try await benchmark.run()
            } catch {
                FileHandle.standardError.write(Data("personaforge-bench: \(error)\n".utf8))
                exit(1)
            }
            if flags.contains("json") {
                let data = try JSONSerialization.data(withJSONObject: result.values, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                result.lines.forEach { print($0) }
            }
            return
        }
        let ngram = intOption(options, "ngram", 5)
        let permutations = intOption(options, "num-perm", 128)
        let threshold = doubleOption(options, "threshold", 0.8)
        let repetitions = intOption(options, "repetitions", 3)
        let documents: [String]
        if let corpus = options["corpus"] {
            documents = try BenchmarkCorpus.load(path: corpus, field: options["field"] ?? "text")
        } else {
            documents = BenchmarkCorpus.generate(
                count: intOption(options, "docs", 20000), words: intOption(options, "words", 200))
        }
        let parameters = try MinHashParameters(ngramSize: ngram, permutationCount: permutations)
        let lsh = try LSHParameters(threshold: threshold, permutationCount: permutations)
        let hasher = MinHasher(parameters: parameters)
        let count = Double(documents.count)
        let averageWords = Double(documents.reduce(0) { $0 + hasher.normalizedWords(of: $1).count }) / count

        // Ceiling: normalization + word and shingle hashing, no permutations.
        var sink: UInt64 = 0
        let shingleSeconds = Stopwatch.best(repetitions: repetitions) {
            for document in documents {
                for hash in hasher.shingleHashes(of: document) { sink ^= hash }
            }
        }
        // Permutations only, from precomputed shingle hashes.
        let shingleSets = documents.map { hasher.shingleHashes(of: $0) }
        let permutationSeconds = Stopwatch.best(repetitions: repetitions) {
            for set in shingleSets { sink ^= UInt64(hasher.signature(ofShingleHashes: set).values[0]) }
        }
        // Full signatures from text.
        var signatures: [MinHashSignature] = []
        let signatureSeconds = Stopwatch.best(repetitions: repetitions) {
            signatures = documents.map { hasher.signature(of: $0) }
        }
        // LSH decisions: band keys, candidate lookup, confirmation and insertion.
        var duplicates = 0
        let lshSeconds = Stopwatch.best(repetitions: repetitions) {
            var index = InMemoryLSHIndex<Int>(parameters: lsh)
            duplicates = 0
            for (i, signature) in signatures.enumerated() where index.insert(i, signature: signature).isDuplicate {
                duplicates += 1
            }
        }
        // End to end: text → signature → decision.
        let endToEndSeconds = Stopwatch.best(repetitions: repetitions) {
            var index = InMemoryLSHIndex<Int>(parameters: lsh)
            for (i, document) in documents.enumerated() {
                sink ^= index.insert(i, signature: hasher.signature(of: document)).isDuplicate ? 1 : 0
            }
        }

        var results: [String: Double] = [
            "documents": count,
            "average_words": averageWords,
            "shingle_hashing_docs_per_s": count / shingleSeconds,
            "permutations_only_docs_per_s": count / permutationSeconds,
            "signatures_docs_per_s": count / signatureSeconds,
            "lsh_decisions_per_s": count / lshSeconds,
            "end_to_end_docs_per_s": count / endToEndSeconds,
            "duplicates": Double(duplicates),
            "bands": Double(lsh.bands),
            "rows": Double(lsh.rows),
        ]
        if let records = options["memory-records"].flatMap(Int.init), records > 0 {
            results["index_bytes_per_record"] = measureIndexBytes(records: records, lsh: lsh, permutations: permutations)
        }
        if flags.contains("json") {
            let data = try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("documents: \(documents.count), average words: \(Int(averageWords)), "
                + "\(ngram)-word shingles, \(permutations) permutations, threshold \(threshold) "
                + "(\(lsh.bands) bands × \(lsh.rows) rows), best of \(repetitions)")
            for key in results.keys.sorted() {
                print("  \(key.padding(toLength: 30, withPad: " ", startingAt: 0)) \(String(format: "%.1f", results[key]!))")
            }
        }
        if sink == 42 { print("") }  // keeps the ceiling loop from being optimized away
    }

    /// `--end-to-end N`: ``EndToEndBenchmark``; prints a table (or JSON lines) of
    /// records/s and CPU µs per record by role, dedup on against dedup off.
    static func runEndToEnd(records: Int, options: [String: String], json: Bool) async throws {
        guard let url = options["database-url"] ?? ProcessInfo.processInfo.environment["PERSONAFORGE_DATABASE_URL"] else {
            usageError("--end-to-end needs --database-url or PERSONAFORGE_DATABASE_URL (a scratch database)")
        }
        let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let benchmark = EndToEndBenchmark(
            databaseURL: url, records: records, workers: intOption(options, "workers", 2),
            concurrency: intOption(options, "concurrency", 32), reducers: intOption(options, "reducers", 1),
            rounds: intOption(options, "rounds", 2), shardSize: intOption(options, "shard-size", 100),
            nearDuplicatePercent: intOption(options, "near-duplicate-percent", 20), words: intOption(options, "words", 80),
            personasFile: options["personas"], redisFsync: options["redis-fsync"] ?? "everysec", binaries: binaries)
        let measurements: [EndToEndBenchmark.Measurement]
        do {
            measurements = try await benchmark.run()
        } catch {
            FileHandle.standardError.write(Data("personaforge-bench: \(error)\n".utf8))
            exit(1)
        }
        let roles = measurements.first?.cpu.map(\.role) ?? []
        if json {
            for m in measurements {
                var object: [String: Any] = ["dedup": m.dedup, "matches_sequential_rule": m.matchesSequentialRule.map { $0 as Any } ?? NSNull(), "records": m.records, "kept": m.kept, "duplicates": m.duplicates,
                                             "seconds": m.seconds, "records_per_s": m.perSecond,
                                             "redis_peak_bytes": m.redisPeakBytes, "peak_shards": m.peakShards, "peak_results": m.peakResults]
                for (role, seconds) in m.cpu { object["cpu_us_per_record_\(role)"] = seconds / Double(m.records) * 1e6 }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
            return
        }
        print("end to end: \(records) records per run, \(benchmark.workers) workers × concurrency \(benchmark.concurrency), "
            + "\(benchmark.reducers) reducer(s), shards of \(benchmark.shardSize), stub texts of \(benchmark.words) words "
            + "(\(benchmark.nearDuplicatePercent) % near-duplicate families), Redis appendfsync \(benchmark.redisFsync)")
        print("CPU µs per record by process, in the window from submission until every record is stored and decided:")
        let header = ["dedup", "records", "kept", "dup", "seconds", "rec/s"] + roles + ["total"]
        print(header.map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined())
        for m in measurements {
            let perRecord = m.cpu.map { String(format: "%.0f", $0.seconds / Double(m.records) * 1e6) }
            let cells = [m.dedup ? "on" : "off", String(m.records), String(m.kept), String(m.duplicates),
                         String(format: "%.2f", m.seconds), String(format: "%.0f", m.perSecond)]
                + perRecord + [String(format: "%.0f", m.totalCPU / Double(m.records) * 1e6)]
            print(cells.map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined())
        }
        print("the queue's Redis during each run (sampled every 20 ms): peak used_memory, at the end, and the longest streams "
            + "(high-water marks: 64 shards, 256 result batches)")
        for m in measurements {
            print(String(format: "  dedup %@: peak %.1f MiB, end %.1f MiB, shards ≤ %d, result batches ≤ %d",
                         m.dedup ? "on " : "off", Double(m.redisPeakBytes) / 1_048_576, Double(m.redisEndBytes) / 1_048_576, m.peakShards, m.peakResults))
        }
        let checked = measurements.compactMap(\.matchesSequentialRule)
        print("stored duplicates equal the sequential rule's (sample order, every record indexed): "
            + "\(checked.filter { $0 }.count) of \(checked.count) dedup-on runs")
        let on = measurements.filter(\.dedup), off = measurements.filter { !$0.dedup }
        if !on.isEmpty, !off.isEmpty {
            let onRate = Double(on.reduce(0) { $0 + $1.records }) / on.reduce(0) { $0 + $1.seconds }
            let offRate = Double(off.reduce(0) { $0 + $1.records }) / off.reduce(0) { $0 + $1.seconds }
            print(String(format: "dedup on %.0f records/s, off %.0f records/s: on/off = %.2f×", onRate, offRate, onRate / offRate))
        }
    }

    /// `--soak MINUTES`: ``SoakBenchmark``; prints each run's accounting, the kills, and
    /// for every series its peak in the first and the last third of the soak. Exits 1
    /// unless every run completed with exact accounting.
    static func runSoak(minutes: Double, options: [String: String]) async throws {
        guard let url = options["database-url"] ?? ProcessInfo.processInfo.environment["PERSONAFORGE_DATABASE_URL"] else {
            usageError("--soak needs --database-url or PERSONAFORGE_DATABASE_URL (a scratch database)")
        }
        let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let soak = SoakBenchmark(
            databaseURL: url, minutes: minutes, records: intOption(options, "records", 200000), killEvery: doubleOption(options, "kill-every", 60),
            workers: intOption(options, "workers", 2), reducers: intOption(options, "reducers", 2), concurrency: intOption(options, "concurrency", 32),
            seed: UInt64(intOption(options, "seed", 1)), output: URL(fileURLWithPath: options["output"] ?? "soak-output"), binaries: binaries)
        print("soak: \(minutes) min at full speed against personaforge-stub, runs of \(soak.records) records (dedup on), "
            + "\(soak.workers) workers × concurrency \(soak.concurrency), \(soak.reducers) reducers, kill -9 of a random role every "
            + "\(soak.killEvery) s ± half (seed \(soak.seed)), restarted 2 s later")
        let outcome: SoakBenchmark.Outcome
        do {
            outcome = try await soak.run { print($0) }
        } catch {
            FileHandle.standardError.write(Data("personaforge-bench: \(error)\n".utf8))
            exit(1)
        }
        let records = outcome.runs.reduce(Int64(0)) { $0 + $1.records }
        print(String(format: "%d runs, %lld records in %.0f s (%.0f records/s with the kills); kills: %@", outcome.runs.count, records, outcome.seconds,
                     Double(records) / outcome.seconds, outcome.kills.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        print(["run", "samples", "records", "distinct", "counters", "dead", "sequential", "seconds"].map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined())
        for run in outcome.runs {
            print([String(run.runID.prefix(8)), String(run.samples), String(run.records), String(run.distinctKeys), run.countersMatch ? "equal" : "DIFFER",
                   String(run.deadShards), run.matchesSequentialRule ? "equal" : "DIFFER", String(format: "%.0f", run.seconds)]
                .map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined())
        }
        // Bounded or not: the peak of each series in the first and in the last third.
        let third = outcome.seconds / 3
        let first = outcome.samples.filter { $0.seconds < third }, last = outcome.samples.filter { $0.seconds >= 2 * third }
        func peaks(_ name: String, _ value: (SoakBenchmark.Sample) -> Double) {
            print(String(format: "  %-28@ first third ≤ %8.1f   last third ≤ %8.1f   end %8.1f", name, first.map(value).max() ?? 0,
                         last.map(value).max() ?? 0, outcome.samples.last.map(value) ?? 0))
        }
        let mib = 1_048_576.0
        print("peaks (MiB; result batches waiting in Redis as a count):")
        peaks("Redis used_memory", { Double($0.redisBytes) / mib })
        peaks("result batches waiting", { Double($0.resultBatches) })
        peaks("PostgreSQL database", { Double($0.databaseBytes) / mib })
        for role in ["coordinator", "reducer", "worker", "redis", "stub"] {
            peaks("RSS \(role)", { Double($0.resident[role] ?? 0) / mib })
        }
        if let end = outcome.samples.last, end.stored > 0 {
            print(String(format: "PostgreSQL bytes per record stored at the end: %.0f", Double(end.databaseBytes) / Double(end.stored)))
        }
        print("series: \(soak.output.appendingPathComponent("soak.csv").path), \(soak.output.appendingPathComponent("soak.svg").path)")
        let exact = !outcome.runs.isEmpty && outcome.runs.allSatisfy(\.exact)
        print(exact ? "every run completed with exact accounting" : "ACCOUNTING FAILED")
        if !exact { exit(1) }
    }

    /// Resident bytes per record of an in-memory index holding `records` random signatures.
    static func measureIndexBytes(records: Int, lsh: LSHParameters, permutations: Int) -> Double {
        var generator = SystemRandomNumberGenerator()
        let before = Stopwatch.residentBytes() ?? 0
        var index = InMemoryLSHIndex<Int>(parameters: lsh)
        var values = [UInt32](repeating: 0, count: permutations)
        for i in 0..<records {
            for j in 0..<permutations { values[j] = UInt32.random(in: 0...UInt32.max, using: &generator) }
            _ = index.insert(i, signature: MinHashSignature(values: values))
        }
        let after = Stopwatch.residentBytes() ?? 0
        precondition(index.count == records)
        return Double(after - before) / Double(records)
    }

    /// A usage mistake: one line on standard error and exit status 2, not a crash report.
    static func usageError(_ message: String) -> Never {
        FileHandle.standardError.write(Data("personaforge-bench: \(message) (see --help)\n".utf8))
        exit(2)
    }

    /// `--name N` as a whole number, `fallback` when absent; anything else is a usage error.
    static func intOption(_ options: [String: String], _ name: String, _ fallback: Int) -> Int {
        guard let text = options[name] else { return fallback }
        guard let value = Int(text) else { usageError("--\(name) needs a whole number, got '\(text)'") }
        return value
    }

    /// `--name X` as a number, `fallback` when absent; anything else is a usage error.
    static func doubleOption(_ options: [String: String], _ name: String, _ fallback: Double) -> Double {
        guard let text = options[name] else { return fallback }
        guard let value = Double(text) else { usageError("--\(name) needs a number, got '\(text)'") }
        return value
    }
}
