/// Every text-diversity metric of a stream of records, maintained
/// incrementally in memory bounded by its `DiversityConfiguration`.
///
/// Feed records with `add(_:)` in any amount and call `snapshot()` at any
/// time; the accumulator is a value (copy it to fork), `Codable` (persist it
/// and resume), and `merge(_:)`-able (combine shards, `other` following
/// `self`). Exactness per metric — and what merging and persisting preserve —
/// is documented on the component types and in docs/metrics.md:
/// `NGramStatistics` (distinct-n, entropy), `CompressionRatioAccumulator`,
/// `SelfRepetitionAccumulator`, `BottomKSample` (homogenization) and
/// `LengthDistribution`.
public struct DiversityAccumulator: Sendable, Codable {
    /// The limits this accumulator was created with.
    public let configuration: DiversityConfiguration
    /// Records added.
    public private(set) var recordCount = 0
    /// distinct-n and entropy over the reference token stream.
    public private(set) var ngrams: NGramStatistics
    /// The reference's gzip compression ratio.
    public private(set) var compression = CompressionRatioAccumulator()
    /// The reference's self-repetition score.
    public private(set) var selfRepetition: SelfRepetitionAccumulator
    /// The record sample of the homogenization score.
    public private(set) var homogenizationSample: BottomKSample<String>
    /// Words per record (`DiversityTokenizer.words`).
    public private(set) var wordLengths: LengthDistribution
    /// Characters (Unicode scalars, like Python's `len`) per record.
    public private(set) var characterLengths: LengthDistribution

    /// An empty accumulator.
    public init(configuration: DiversityConfiguration = DiversityConfiguration()) {
        self.configuration = configuration
        ngrams = NGramStatistics(
            maxOrder: configuration.maxOrder,
            exactLimit: configuration.exactNGramLimit,
            sketchPrecision: configuration.sketchPrecision
        )
        selfRepetition = SelfRepetitionAccumulator(
            order: configuration.selfRepetitionOrder,
            recordLimit: configuration.selfRepetitionRecordLimit,
            ngramLimit: configuration.selfRepetitionNGramLimit,
            seed: configuration.seed
        )
        homogenizationSample = BottomKSample(capacity: configuration.homogenizationSampleSize)
        wordLengths = LengthDistribution(exactLimit: configuration.exactLengthLimit)
        characterLengths = LengthDistribution(exactLimit: configuration.exactLengthLimit)
    }

    /// Adds one record.
    ///
    /// All-ASCII text (what records almost always are) is tokenized on its bytes, hashing
    /// each token's bytes in place; any other text takes ``addThroughSubstrings(_:)``. Both
    /// hash the same UTF-8 bytes, so they give the same state (tested on random texts).
    public mutating func add(_ text: String) {
        var text = text
        let handled = text.withUTF8 { bytes -> Bool in
            var wide: UInt8 = 0
            for byte in bytes { wide |= byte }
            guard wide < 0x80 else { return false }
            recordCount += 1
            let recordHash = TextHash.hash(bytes)
            // Reference tokens: split on U+0020 only, keeping empty tokens.
            var start = 0
            for index in 0..<bytes.count where bytes[index] == 0x20 {
                ngrams.add(tokenHash: TextHash.hash(UnsafeBufferPointer(rebasing: bytes[start..<index])))
                start = index + 1
            }
            ngrams.add(tokenHash: TextHash.hash(UnsafeBufferPointer(rebasing: bytes[start..<bytes.count])))
            compression.add(bytes)
            // Words: runs of Python whitespace separate (`DiversityTokenizer.words`).
            var wordHashes: [UInt64] = []
            wordHashes.reserveCapacity(bytes.count / 4)
            var wordStart = -1
            for index in 0..<bytes.count {
                let byte = bytes[index]
                if DiversityTokenizer.isPythonWhitespace(Unicode.Scalar(byte)) {
                    if wordStart >= 0 {
                        wordHashes.append(TextHash.hash(UnsafeBufferPointer(rebasing: bytes[wordStart..<index])))
                        wordStart = -1
                    }
                } else if wordStart < 0 {
                    wordStart = index
                }
            }
            if wordStart >= 0 { wordHashes.append(TextHash.hash(UnsafeBufferPointer(rebasing: bytes[wordStart..<bytes.count]))) }
            selfRepetition.add(wordHashes: wordHashes, recordHash: recordHash)
            homogenizationSample.offer(key: homogenizationKey(recordHash)) { String(decoding: bytes, as: UTF8.self) }
            wordLengths.add(wordHashes.count)
            characterLengths.add(bytes.count)
            return true
        }
        if !handled { addThroughSubstrings(text) }
    }

    /// A record's key in the homogenization sample (the seed picks the sample).
    private func homogenizationKey(_ recordHash: UInt64) -> UInt64 {
        PortableHash.combine(configuration.seed ^ 0x686F_6D6F, recordHash)
    }

    /// Adds one record through the general tokenizers (`DiversityTokenizer`): any text.
    mutating func addThroughSubstrings(_ text: String) {
        recordCount += 1
        let recordHash = TextHash.hash(text)
        for token in DiversityTokenizer.referenceTokens(text) {
            ngrams.add(tokenHash: TextHash.hash(token))
        }
        compression.add(text)
        let words = DiversityTokenizer.words(text)
        selfRepetition.add(wordHashes: words.map { TextHash.hash($0) }, recordHash: recordHash)
        homogenizationSample.offer(key: homogenizationKey(recordHash)) { text }
        wordLengths.add(words.count)
        characterLengths.add(text.unicodeScalars.count)
    }

    /// Adds every record `other` has seen, as if they followed this one's.
    public mutating func merge(_ other: DiversityAccumulator) {
        precondition(other.configuration == configuration, "cannot merge diversity accumulators with different configurations")
        recordCount += other.recordCount
        ngrams.merge(other.ngrams)
        compression.merge(other.compression)
        selfRepetition.merge(other.selfRepetition)
        homogenizationSample.merge(other.homogenizationSample)
        wordLengths.merge(other.wordLengths)
        characterLengths.merge(other.characterLengths)
    }

    /// The ROUGE-L homogenization score of the sample: the mean ROUGE-L F1
    /// over all pairs of sampled records (0 for fewer than two).
    public var homogenizationScore: Double {
        var vocabulary: [String: Int] = [:]
        let documents = homogenizationSample.elements.map { text in
            DiversityTokenizer.rougeTokens(text).map { token in
                if let id = vocabulary[token] { return id }
                let id = vocabulary.count
                vocabulary[token] = id
                return id
            }
        }
        guard documents.count >= 2 else { return 0 }
        var sum = 0.0
        for i in 0..<(documents.count - 1) {
            let first = documents[i]
            guard !first.isEmpty else { continue }
            let masks = RougeL.PatternMasks(first)
            for j in (i + 1)..<documents.count where !documents[j].isEmpty {
                let lcs = masks.longestCommonSubsequence(with: documents[j])
                sum += 2 * Double(lcs) / Double(first.count + documents[j].count)
            }
        }
        return sum / Double(documents.count * (documents.count - 1) / 2)
    }

    /// All metrics now (see docs/metrics.md). Cost: O(K²) ROUGE-L pairs for
    /// the homogenization sample plus finishing copies of two deflate streams.
    public func snapshot() -> DiversityMetrics {
        var metrics = DiversityMetrics()
        metrics["records"] = Double(recordCount)
        metrics["tokens"] = Double(ngrams.tokenCount)
        var diversityScore = 0.0
        for order in 1...ngrams.maxOrder {
            let ratio = ngrams.distinctRatio(order: order)
            metrics["distinct_\(order)"] = ratio
            diversityScore += ratio
        }
        metrics["ngram_diversity_score"] = diversityScore
        for order in 1...ngrams.maxOrder {
            metrics["entropy_\(order)"] = ngrams.entropy(order: order)
        }
        let compressed = compression.referenceCompressedByteCount()
        let original = compression.originalByteCount
        metrics["compression_ratio"] = compressed == 0 ? 0 : Double(original) / Double(compressed)
        metrics["compression_ratio_single_gzip"] = compression.singleGzipRatio
        metrics["compression_original_bytes"] = Double(original)
        metrics["compression_compressed_bytes"] = Double(compressed)
        metrics["self_repetition_score"] = selfRepetition.score
        metrics["homogenization_rougel"] = homogenizationScore
        metrics["homogenization_sample_size"] = Double(homogenizationSample.entries.count)
        for (prefix, distribution) in [("words", wordLengths), ("chars", characterLengths)] {
            metrics["\(prefix)_mean"] = distribution.moments.mean
            metrics["\(prefix)_stddev"] = distribution.moments.standardDeviation
            metrics["\(prefix)_min"] = distribution.moments.minimum
            metrics["\(prefix)_max"] = distribution.moments.maximum
            metrics["\(prefix)_p50"] = distribution.percentile(0.5)
            metrics["\(prefix)_p90"] = distribution.percentile(0.9)
            metrics["\(prefix)_p99"] = distribution.percentile(0.99)
        }
        metrics["exact_ngrams"] = ngrams.isExact ? 1 : 0
        metrics["exact_self_repetition"] = selfRepetition.isExact ? 1 : 0
        metrics["exact_homogenization"] = homogenizationSample.isComplete ? 1 : 0
        metrics["exact_length_percentiles"] = wordLengths.isExact && characterLengths.isExact ? 1 : 0
        return metrics
    }
}
