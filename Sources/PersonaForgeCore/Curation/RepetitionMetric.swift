/// The repeated word n-gram ratio used by the repetition filter.
///
/// For the normalized words w₁…w_k of a text (see ``WordTokenizer``) and
/// n-gram size n, there are `total = k − n + 1` n-grams, of which `distinct`
/// are different; the ratio is `1 − distinct / total`: 0 when no n-gram
/// repeats, close to 1 for a text that loops on one phrase.
///
/// Short texts say little about repetition, so the ratio is only defined for
/// texts with at least ``minimumWordCount(n:)`` = 2·n words (at least n + 1
/// n-grams); shorter texts are never rejected for repetition.
public enum RepetitionMetric {
    /// The fewest words a text needs before its repetition is measured: `2 · n`.
    public static func minimumWordCount(n: Int) -> Int { 2 * max(1, n) }

    /// The repeated n-gram ratio of `text`, or nil if it has fewer than
    /// ``minimumWordCount(n:)`` words.
    public static func repeatedNgramRatio(of text: String, n: Int) -> Double? {
        repeatedNgramRatio(words: WordTokenizer.normalizedWords(in: text), n: n)
    }

    /// The repeated n-gram ratio of already normalized `words`, or nil if there
    /// are fewer than ``minimumWordCount(n:)`` of them.
    public static func repeatedNgramRatio(words: [String], n: Int) -> Double? {
        let n = max(1, n)
        guard words.count >= minimumWordCount(n: n) else { return nil }
        // Map each word to a small integer so n-grams hash as integer slices.
        var ids: [String: Int] = [:]
        ids.reserveCapacity(words.count)
        let sequence = words.map { word in
            if let id = ids[word] { return id }
            let id = ids.count
            ids[word] = id
            return id
        }
        let total = sequence.count - n + 1
        let distinct: Int
        let bitsPerWord = max(1, Int.bitWidth - ids.count.leadingZeroBitCount)
        if bitsPerWord * n <= 64 {
            // Exact and allocation-free: pack the n word ids into one UInt64.
            var keys = Set<UInt64>(minimumCapacity: total)
            for start in 0..<total {
                var key: UInt64 = 0
                for offset in 0..<n { key = key << bitsPerWord | UInt64(sequence[start + offset]) }
                keys.insert(key)
            }
            distinct = keys.count
        } else {
            var keys = Set<ArraySlice<Int>>(minimumCapacity: total)
            for start in 0..<total { keys.insert(sequence[start..<(start + n)]) }
            distinct = keys.count
        }
        return Double(total - distinct) / Double(total)
    }
}
