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
        var text = text
        if let ratio = text.withUTF8({ asciiRatio(utf8: $0, n: max(1, n)) }) { return ratio }
        return repeatedNgramRatio(words: WordTokenizer.normalizedWords(in: text), n: n)
    }

    /// The same ratio computed on the bytes of an all-ASCII text, without a `String`
    /// per word: words are told apart by their lowercased bytes (an open-addressing
    /// table of byte ranges, compared byte for byte, so it is exact), and the distinct
    /// n-grams are counted by sorting their packed keys. nil when the text is not all
    /// ASCII (then ``WordTokenizer``'s Unicode rules apply) or its n-grams do not pack
    /// into 64 bits, and the caller falls back to the general path; `.some(nil)` when
    /// the text has too few words to be measured.
    static func asciiRatio(utf8 bytes: UnsafeBufferPointer<UInt8>, n: Int) -> Double?? {
        var lowered = [UInt8]()
        lowered.reserveCapacity(bytes.count)
        var words: [(start: Int, end: Int)] = []
        var tokenOpen = false, coreStart = -1, coreEnd = -1
        for byte in bytes {
            if byte >= 0x80 { return nil }
            if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) {
                if tokenOpen, coreStart >= 0 { words.append((coreStart, coreEnd)) }
                tokenOpen = false
                coreStart = -1
                continue
            }
            tokenOpen = true
            let folded = byte | 0x20
            let isDigit = byte >= 0x30 && byte <= 0x39
            let isLetter = folded >= 0x61 && folded <= 0x7A
            if isDigit || isLetter {
                // The core runs from the first to the last letter or digit of the
                // token; the punctuation inside it is kept, as the general path does.
                if coreStart < 0 { coreStart = lowered.count }
                lowered.append(isLetter ? folded : byte)
                coreEnd = lowered.count
            } else if coreStart >= 0 {
                lowered.append(byte)
            }
        }
        if tokenOpen, coreStart >= 0 { words.append((coreStart, coreEnd)) }
        guard words.count >= minimumWordCount(n: n) else { return .some(nil) }

        // Word → small id, first seen first.
        var capacity = 16
        while capacity < words.count * 2 { capacity <<= 1 }
        let mask = capacity - 1
        var slots = [Int32](repeating: -1, count: capacity)  // index into `words` of the slot's first occurrence
        var slotIDs = [Int32](repeating: 0, count: capacity)
        var sequence = [Int](repeating: 0, count: words.count)
        var distinctWords = 0
        lowered.withUnsafeBufferPointer { text in
            for (offset, word) in words.enumerated() {
                var hash: UInt64 = 0xCBF2_9CE4_8422_2325
                for index in word.start..<word.end { hash = (hash ^ UInt64(text[index])) &* 0x0000_0100_0000_01B3 }
                var slot = Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask
                while true {
                    let occupant = Int(slots[slot])
                    if occupant < 0 {
                        slots[slot] = Int32(offset)
                        slotIDs[slot] = Int32(distinctWords)
                        sequence[offset] = distinctWords
                        distinctWords += 1
                        break
                    }
                    let other = words[occupant]
                    if other.end - other.start == word.end - word.start,
                       (0..<(word.end - word.start)).allSatisfy({ text[other.start + $0] == text[word.start + $0] }) {
                        sequence[offset] = Int(slotIDs[slot])
                        break
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
        let bitsPerWord = max(1, Int.bitWidth - distinctWords.leadingZeroBitCount)
        guard bitsPerWord * n <= 64 else { return nil }
        let total = sequence.count - n + 1
        var keys = [UInt64](repeating: 0, count: total)
        for start in 0..<total {
            var key: UInt64 = 0
            for offset in 0..<n { key = key << bitsPerWord | UInt64(sequence[start + offset]) }
            keys[start] = key
        }
        keys.sort()
        var distinct = 1
        for index in 1..<total where keys[index] != keys[index - 1] { distinct += 1 }
        return .some(Double(total - distinct) / Double(total))
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
