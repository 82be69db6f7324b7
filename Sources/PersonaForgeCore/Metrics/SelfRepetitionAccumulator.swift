import Foundation

/// The reference's `self_repetition_score` (Salkar et al.; `diversity`
/// package): with `df(g)` the number of records containing n-gram `g`
/// (`DiversityTokenizer.words`, n = 4 by default, within a record),
///
///     score = mean over records r of ln(1 + Σ_{g ∈ set(r)} (df(g) − 1))
///
/// i.e. how many times a record's n-grams re-occur in other records, on a log
/// scale; 0 means no record shares an n-gram with another.
///
/// Streaming: the final `df` is only known at the end, so the per-record sets
/// must be kept. Exact while at most `recordLimit` records have been seen and
/// the document-frequency table is exact (`ngramLimit` distinct n-grams).
/// Beyond that, the mean is taken over a `BottomKSample` of `recordLimit`
/// records, and each record's inner sum over the tracked n-grams of a
/// `SampledFrequencyTable` scaled by their weights (unbiased for the inner
/// sum; the log makes the estimate slightly low — see docs/metrics.md).
/// Merging is exact while the merged state is within both limits.
public struct SelfRepetitionAccumulator: Sendable, Hashable, Codable {
    /// The n-gram length.
    public let order: Int
    private var documentFrequencies: SampledFrequencyTable
    /// Per kept record, the hashes of its distinct n-grams that are tracked.
    private var records: BottomKSample<[UInt64]>
    private let seed: UInt64

    /// An empty accumulator.
    public init(order: Int = 4, recordLimit: Int = 10_000, ngramLimit: Int = 1 << 20, seed: UInt64 = 0) {
        precondition(order >= 1, "order must be at least 1")
        self.order = order
        self.seed = seed
        documentFrequencies = SampledFrequencyTable(capacity: ngramLimit)
        records = BottomKSample(capacity: recordLimit)
    }

    /// Whether `score` is exact.
    public var isExact: Bool { records.isComplete && documentFrequencies.isExact }

    /// Records seen.
    public var recordCount: Int { records.offeredCount }

    /// Adds one record, with `recordHash` its content hash (`TextHash.hash`).
    public mutating func add(_ text: String, recordHash: UInt64) {
        add(wordHashes: DiversityTokenizer.words(text).map { TextHash.hash($0) }, recordHash: recordHash)
    }

    /// Adds one record given the `TextHash` of each of its `DiversityTokenizer.words`.
    public mutating func add(wordHashes words: [UInt64], recordHash: UInt64) {
        // The record's distinct n-grams, sorted: added to the table in a fixed order, so
        // which items a table overflow pins does not depend on a Set's per-process seed.
        var grams: [UInt64] = []
        if words.count >= order {
            grams.reserveCapacity(words.count - order + 1)
            for start in 0...(words.count - order) {
                grams.append(TextHash.hash(tokens: words[start..<(start + order)], order: order))
            }
            grams.sort()
            var unique = 0
            for index in grams.indices where unique == 0 || grams[unique - 1] != grams[index] {
                grams[unique] = grams[index]
                unique += 1
            }
            grams.removeLast(grams.count - unique)
        }
        let levelBefore = documentFrequencies.level
        for gram in grams { documentFrequencies.add(gram) }
        let table = documentFrequencies
        records.offer(key: PortableHash.combine(seed, recordHash)) {
            grams.filter { table.isTracked($0) }
        }
        if documentFrequencies.level != levelBefore { pruneUntracked() }
    }

    /// The (estimated) self-repetition score; 0 when empty.
    public var score: Double {
        let kept = records.elements
        guard !kept.isEmpty else { return 0 }
        var total = 0.0
        for grams in kept {
            var repeats = 0.0
            for gram in grams {
                guard let count = documentFrequencies.count(of: gram) else { continue }
                repeats += documentFrequencies.weight(of: gram) * Double(count - 1)
            }
            total += log(1 + repeats)
        }
        return total / Double(kept.count)
    }

    /// Adds every record `other` has seen.
    public mutating func merge(_ other: SelfRepetitionAccumulator) {
        precondition(other.order == order, "cannot merge self-repetition of different n-gram orders")
        documentFrequencies.merge(other.documentFrequencies)
        records.merge(other.records)
        pruneUntracked()
    }

    private mutating func pruneUntracked() {
        let table = documentFrequencies
        records.updateElements { grams in grams.removeAll { !table.isTracked($0) } }
    }
}
