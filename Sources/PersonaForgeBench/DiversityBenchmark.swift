import Foundation
import PersonaForgeCore
import PersonaForgeReducer

/// The reducer's live diversity, per record, by component (issue 12: it was over half
/// of a reducer's CPU), against the worker's MinHash signature of the same text as the
/// reference: both are one pass over one record's text, measured in the same process.
///
///     personaforge-bench --diversity 20000 [--words 80] [--rounds 3]
///
/// The accumulator has the reducer's live limits (``LiveDiversitySettings/liveConfiguration``),
/// so past 2^15 distinct n-grams per order it runs in its sampled steady state, as it
/// does for every long run. Persisting (JSON, as `DiversityStateStore` stores it) and
/// merging two partials (what a snapshot does) are timed once per round.
struct DiversityBenchmark {
    let records: Int
    let words: Int
    let rounds: Int

    struct Row {
        var name: String
        /// µs per record, or per call for the once-a-round rows (`perCall`), one per round.
        var microseconds: [Double]
        var perCall: Bool
    }

    func run() throws -> (rows: [Row], stateBytes: Int) {
        let texts = BenchmarkCorpus.generate(count: records, words: words)
        let configuration = LiveDiversitySettings.liveConfiguration
        let hasher = MinHasher()
        var rows: [String: [Double]] = [:]
        var order: [String] = []
        var perCall: Set<String> = []
        var stateBytes = 0
        func record(_ name: String, _ seconds: Double, per count: Int) {
            if rows[name] == nil { order.append(name) }
            if count == 1 { perCall.insert(name) }
            rows[name, default: []].append(seconds / Double(count) * 1e6)
        }
        var sink: UInt64 = 0
        for _ in 0..<rounds {
            var start = Stopwatch.now()
            for text in texts { sink &+= UInt64(hasher.signature(of: text).values[0]) }
            record("reference: MinHash signature", Stopwatch.now() - start, per: texts.count)

            var accumulator = DiversityAccumulator(configuration: configuration)
            start = Stopwatch.now()
            for text in texts { accumulator.add(text) }
            record("DiversityAccumulator.add (whole)", Stopwatch.now() - start, per: texts.count)

            start = Stopwatch.now()
            var tokenHashes: [[UInt64]] = []
            tokenHashes.reserveCapacity(texts.count)
            for text in texts { tokenHashes.append(DiversityTokenizer.referenceTokens(text).map { TextHash.hash($0) }) }
            record("  reference tokens + hashes", Stopwatch.now() - start, per: texts.count)

            var ngrams = NGramStatistics(maxOrder: configuration.maxOrder, exactLimit: configuration.exactNGramLimit, sketchPrecision: configuration.sketchPrecision)
            start = Stopwatch.now()
            for hashes in tokenHashes { for hash in hashes { ngrams.add(tokenHash: hash) } }
            record("  n-gram tables + sketches", Stopwatch.now() - start, per: texts.count)

            var compression = CompressionRatioAccumulator()
            start = Stopwatch.now()
            for text in texts { compression.add(text) }
            record("  compression (2 × deflate 9)", Stopwatch.now() - start, per: texts.count)

            start = Stopwatch.now()
            var wordHashes: [[UInt64]] = []
            wordHashes.reserveCapacity(texts.count)
            for text in texts { wordHashes.append(DiversityTokenizer.words(text).map { TextHash.hash($0) }) }
            record("  words + hashes", Stopwatch.now() - start, per: texts.count)

            var repetition = SelfRepetitionAccumulator(
                order: configuration.selfRepetitionOrder, recordLimit: configuration.selfRepetitionRecordLimit,
                ngramLimit: configuration.selfRepetitionNGramLimit, seed: configuration.seed)
            start = Stopwatch.now()
            for (index, hashes) in wordHashes.enumerated() { repetition.add(wordHashes: hashes, recordHash: UInt64(index)) }
            record("  self-repetition", Stopwatch.now() - start, per: texts.count)

            start = Stopwatch.now()
            var sample = BottomKSample<String>(capacity: configuration.homogenizationSampleSize)
            var lengths = LengthDistribution(exactLimit: configuration.exactLengthLimit)
            for text in texts {
                let hash = TextHash.hash(text)
                sample.offer(key: PortableHash.combine(configuration.seed ^ 0x686F_6D6F, hash)) { text }
                lengths.add(text.unicodeScalars.count)
            }
            record("  record hash, sample, lengths", Stopwatch.now() - start, per: texts.count)

            start = Stopwatch.now()
            let encoded = try JSONEncoder().encode(accumulator)
            record("persist: JSON encode (per store)", Stopwatch.now() - start, per: 1)
            stateBytes = encoded.count
            start = Stopwatch.now()
            var decoded = try JSONDecoder().decode(DiversityAccumulator.self, from: encoded)
            record("load: JSON decode (per load)", Stopwatch.now() - start, per: 1)
            start = Stopwatch.now()
            decoded.merge(accumulator)
            record("merge of two partials (per snapshot)", Stopwatch.now() - start, per: 1)
            start = Stopwatch.now()
            let metrics = decoded.snapshot()
            record("snapshot (per snapshot)", Stopwatch.now() - start, per: 1)
            sink &+= UInt64(metrics.values.count)
        }
        if sink == 42 { print("") }
        return (order.map { Row(name: $0, microseconds: rows[$0]!, perCall: perCall.contains($0)) }, stateBytes)
    }
}
