/// ROUGE-L F-measure between token sequences, as rouge-score computes it
/// (`2·LCS / (|a| + |b|)`, 0 if either is empty), with a bit-parallel LCS
/// (Hyyrö 2004: O(|a|·|b| / 64) word operations).
public enum RougeL {
    /// ROUGE-L F1 of two token-id sequences (symmetric).
    public static func fMeasure(_ first: [Int], _ second: [Int]) -> Double {
        guard !first.isEmpty, !second.isEmpty else { return 0 }
        let lcs = PatternMasks(first).longestCommonSubsequence(with: second)
        return 2 * Double(lcs) / Double(first.count + second.count)
    }

    /// Per-token position bitmasks of one sequence, reusable against many others.
    public struct PatternMasks: Sendable {
        let length: Int
        let wordCount: Int
        private var masks: [Int: [UInt64]] = [:]

        /// Precomputes the masks of `tokens`.
        public init(_ tokens: [Int]) {
            length = tokens.count
            wordCount = (tokens.count + 63) / 64
            for (position, token) in tokens.enumerated() {
                masks[token, default: [UInt64](repeating: 0, count: wordCount)][position / 64] |= 1 << UInt64(position % 64)
            }
        }

        /// The length of the longest common subsequence with `other`.
        public func longestCommonSubsequence(with other: [Int]) -> Int {
            guard length > 0 else { return 0 }
            var v = [UInt64](repeating: .max, count: wordCount)
            for token in other {
                guard let mask = masks[token] else { continue }
                // V' = (V + U) | (V − U) with U = V & M, across words.
                var carry: UInt64 = 0
                var borrow: UInt64 = 0
                for word in 0..<wordCount {
                    let vWord = v[word]
                    let u = vWord & mask[word]
                    let (sum1, overflow1) = vWord.addingReportingOverflow(u)
                    let (sum, overflow2) = sum1.addingReportingOverflow(carry)
                    carry = (overflow1 || overflow2) ? 1 : 0
                    let (difference1, underflow1) = vWord.subtractingReportingOverflow(u)
                    let (difference, underflow2) = difference1.subtractingReportingOverflow(borrow)
                    borrow = (underflow1 || underflow2) ? 1 : 0
                    v[word] = sum | difference
                }
            }
            var zeros = 0
            for word in 0..<wordCount {
                let bits = min(64, length - word * 64)
                let valid: UInt64 = bits == 64 ? .max : (1 << UInt64(bits)) - 1
                zeros += (~v[word] & valid).nonzeroBitCount
            }
            return zeros
        }
    }
}
