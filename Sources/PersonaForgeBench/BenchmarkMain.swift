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
            guard argument.hasPrefix("--") else { fatalError("unexpected argument \(argument)") }
            let name = String(argument.dropFirst(2))
            if name == "json" || name == "help" || name == "keep" { flags.insert(name); continue }
            guard let value = arguments.next() else { fatalError("--\(name) needs a value") }
            options[name] = value
        }
        if flags.contains("help") {
            print("personaforge-bench [--corpus FILE.jsonl --field text] [--docs N] [--words N] [--ngram N] "
                + "[--num-perm K] [--threshold T] [--repetitions R] [--memory-records N] [--json]\n"
                + "personaforge-bench --postgres-records N [--database-url URL] [--threshold T] [--num-perm K] "
                + "[--batch N] [--probe N] [--writers N] [--keep] [--json]")
            return
        }
        if let records = options["postgres-records"] {
            guard let url = options["database-url"] ?? ProcessInfo.processInfo.environment["PERSONAFORGE_DATABASE_URL"] else {
                fatalError("--postgres-records needs --database-url or PERSONAFORGE_DATABASE_URL")
            }
            let benchmark = PostgresIndexBenchmark(
                databaseURL: url, records: Int(records)!, batch: Int(options["batch"] ?? "1000")!,
                probe: Int(options["probe"] ?? "20000")!, threshold: Double(options["threshold"] ?? "0.8")!,
                permutations: Int(options["num-perm"] ?? "128")!, cleanup: !flags.contains("keep"),
                writers: Int(options["writers"] ?? "2")!)
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
        let ngram = Int(options["ngram"] ?? "5")!
        let permutations = Int(options["num-perm"] ?? "128")!
        let threshold = Double(options["threshold"] ?? "0.8")!
        let repetitions = Int(options["repetitions"] ?? "3")!
        let documents: [String]
        if let corpus = options["corpus"] {
            documents = try BenchmarkCorpus.load(path: corpus, field: options["field"] ?? "text")
        } else {
            documents = BenchmarkCorpus.generate(
                count: Int(options["docs"] ?? "20000")!, words: Int(options["words"] ?? "200")!)
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
}
